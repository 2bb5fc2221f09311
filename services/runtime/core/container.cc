#include "services/runtime/core/container.h"

#include "absl/strings/str_cat.h"
#include "lib/oci/image_config.h"
#include "nlohmann/json.hpp"

namespace strata::runtime {
namespace {

using nlohmann::json;

std::string TimeToText(absl::Time time) {
  return time == absl::InfinitePast() ? "" : oci::FormatRfc3339(time);
}

absl::Time TimeFromText(const std::string& text) {
  if (text.empty()) return absl::InfinitePast();
  absl::StatusOr<absl::Time> time = oci::ParseRfc3339(text);
  return time.ok() ? *time : absl::InfinitePast();
}

ContainerState StateFromName(const std::string& name) {
  if (name == "running") return ContainerState::kRunning;
  if (name == "paused") return ContainerState::kPaused;
  if (name == "exited") return ContainerState::kExited;
  return ContainerState::kCreated;
}

}  // namespace

const char* StateName(ContainerState state) {
  switch (state) {
    case ContainerState::kCreated:
      return "created";
    case ContainerState::kRunning:
      return "running";
    case ContainerState::kPaused:
      return "paused";
    case ContainerState::kExited:
      return "exited";
  }
  return "unknown";
}

std::string RecordToJson(const ContainerRecord& record) {
  json layers = json::array();
  for (const LayerRef& layer : record.layers) {
    layers.push_back({{"digest", layer.digest.str()},
                      {"diff_id", layer.diff_id.str()},
                      {"chain_id", layer.chain_id.str()},
                      {"media_type", layer.media_type},
                      {"size", layer.size},
                      {"uncompressed_size", layer.uncompressed_size}});
  }
  json document = {
      {"id", record.id},
      {"name", record.name},
      {"image_id", record.image_id},
      {"image_ref", record.image_ref},
      {"layers", layers},
      {"spec",
       {{"entrypoint", record.spec.entrypoint ? json(*record.spec.entrypoint) : json(nullptr)},
        {"cmd", record.spec.cmd ? json(*record.spec.cmd) : json(nullptr)},
        {"env", record.spec.env},
        {"working_dir", record.spec.working_dir},
        {"user", record.spec.user},
        {"stop_signal", record.spec.stop_signal},
        {"labels", record.spec.labels}}},
      {"args", record.args},
      {"tty", record.tty},
      {"open_stdin", record.open_stdin},
      {"network", record.network},
      {"hostname", record.hostname},
      {"created", TimeToText(record.created)},
      {"started", TimeToText(record.started)},
      {"finished", TimeToText(record.finished)},
      {"state", StateName(record.state)},
      {"exit_code", record.exit_code},
      {"pid", record.pid},
      {"error", record.error},
      {"init_link", record.init_link},
  };
  json mounts = json::array();
  for (const MountSpec& mount : record.mounts) {
    mounts.push_back({{"type", mount.type},
                      {"source", mount.source},
                      {"target", mount.target},
                      {"readonly", mount.readonly},
                      {"options", mount.options}});
  }
  document["mounts"] = mounts;
  document["auto_remove"] = record.auto_remove;
  return document.dump(2);
}

absl::StatusOr<ContainerRecord> RecordFromJson(const std::string& text) {
  json document = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!document.is_object()) return absl::DataLossError("container record is not a JSON object");
  try {
    ContainerRecord record;
    record.id = document.at("id").get<std::string>();
    record.name = document.at("name").get<std::string>();
    record.image_id = document.value("image_id", "");
    record.image_ref = document.value("image_ref", "");
    for (const json& layer : document.at("layers")) {
      LayerRef ref;
      auto digest = Digest::Parse(layer.at("digest").get<std::string>());
      auto diff_id = Digest::Parse(layer.at("diff_id").get<std::string>());
      auto chain_id = Digest::Parse(layer.at("chain_id").get<std::string>());
      if (!digest.ok() || !diff_id.ok() || !chain_id.ok()) {
        return absl::DataLossError("container record: malformed layer digest");
      }
      ref.digest = *digest;
      ref.diff_id = *diff_id;
      ref.chain_id = *chain_id;
      ref.media_type = layer.value("media_type", "");
      ref.size = layer.value("size", int64_t{0});
      ref.uncompressed_size = layer.value("uncompressed_size", int64_t{0});
      record.layers.push_back(std::move(ref));
    }
    const json& spec = document.at("spec");
    // Absent or null: the list was absent; old records always wrote a list.
    if (spec.contains("entrypoint") && !spec["entrypoint"].is_null()) {
      record.spec.entrypoint = spec["entrypoint"].get<std::vector<std::string>>();
    }
    if (spec.contains("cmd") && !spec["cmd"].is_null()) {
      record.spec.cmd = spec["cmd"].get<std::vector<std::string>>();
    }
    record.spec.env = spec.value("env", std::vector<std::string>{});
    record.spec.working_dir = spec.value("working_dir", "");
    record.spec.user = spec.value("user", "");
    record.spec.stop_signal = spec.value("stop_signal", "");
    record.spec.labels = spec.value("labels", std::map<std::string, std::string>{});
    record.args = document.value("args", std::vector<std::string>{});
    record.tty = document.value("tty", false);
    record.open_stdin = document.value("open_stdin", false);
    record.network = document.value("network", "host");
    record.hostname = document.value("hostname", "");
    record.created = TimeFromText(document.value("created", ""));
    record.started = TimeFromText(document.value("started", ""));
    record.finished = TimeFromText(document.value("finished", ""));
    record.state = StateFromName(document.value("state", "created"));
    record.exit_code = document.value("exit_code", 0);
    record.pid = document.value("pid", 0);
    record.error = document.value("error", "");
    record.init_link = document.value("init_link", "");
    record.auto_remove = document.value("auto_remove", false);
    if (document.contains("mounts")) {
      for (const json& mount : document["mounts"]) {
        MountSpec spec;
        spec.type = mount.value("type", "");
        spec.source = mount.value("source", "");
        spec.target = mount.value("target", "");
        spec.readonly = mount.value("readonly", false);
        spec.options = mount.value("options", std::vector<std::string>{});
        record.mounts.push_back(std::move(spec));
      }
    }
    return record;
  } catch (const json::exception& error) {
    return absl::DataLossError(absl::StrCat("container record: ", error.what()));
  }
}

}  // namespace strata::runtime
