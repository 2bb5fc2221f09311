#include "lib/oci/image_config.h"

#include "absl/strings/str_cat.h"

namespace strata::oci {
namespace {

using nlohmann::json;

absl::Status Invalid(absl::string_view field, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat("image config: ", field, " ", problem));
}

absl::Status CheckStringList(const json& object, const char* key, absl::string_view path) {
  if (!object.contains(key) || object[key].is_null()) return absl::OkStatus();
  const json& value = object[key];
  if (!value.is_array()) return Invalid(absl::StrCat(path, ".", key), "must be a list of strings");
  for (const json& item : value) {
    if (!item.is_string()) {
      return Invalid(absl::StrCat(path, ".", key), "must be a list of strings");
    }
  }
  return absl::OkStatus();
}

absl::Status CheckString(const json& object, const char* key, absl::string_view path) {
  if (!object.contains(key) || object[key].is_null() || object[key].is_string()) {
    return absl::OkStatus();
  }
  return Invalid(absl::StrCat(path, ".", key), "must be a string");
}

absl::Status CheckObjectOfStrings(const json& object, const char* key, absl::string_view path,
                                  bool values_must_be_strings) {
  if (!object.contains(key) || object[key].is_null()) return absl::OkStatus();
  if (!object[key].is_object()) return Invalid(absl::StrCat(path, ".", key), "must be an object");
  if (values_must_be_strings) {
    for (const auto& item : object[key].items()) {
      if (!item.value().is_string()) {
        return Invalid(absl::StrCat(path, ".", key, ".", item.key()), "must be a string");
      }
    }
  }
  return absl::OkStatus();
}

std::string StringOr(const json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return "";
  return it->get<std::string>();
}

std::vector<std::string> StringList(const json& value) {
  std::vector<std::string> out;
  if (!value.is_array()) return out;
  for (const json& item : value) out.push_back(item.get<std::string>());
  return out;
}

json HistoryToJson(const History& step) {
  json out = json::object();
  if (!step.created.empty()) out["created"] = step.created;
  if (!step.created_by.empty()) out["created_by"] = step.created_by;
  if (!step.author.empty()) out["author"] = step.author;
  if (!step.comment.empty()) out["comment"] = step.comment;
  if (step.empty_layer) out["empty_layer"] = true;
  return out;
}

}  // namespace

const char* HostArchitecture() {
#if defined(__x86_64__)
  return "amd64";
#elif defined(__aarch64__)
  return "arm64";
#elif defined(__i386__)
  return "386";
#elif defined(__arm__)
  return "arm";
#elif defined(__powerpc64__)
  return "ppc64le";
#elif defined(__s390x__)
  return "s390x";
#elif defined(__riscv)
  return "riscv64";
#else
  return "unknown";
#endif
}

std::string FormatRfc3339(absl::Time time) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ", time, absl::UTCTimeZone());
}

absl::StatusOr<absl::Time> ParseRfc3339(absl::string_view text) {
  absl::Time time;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, std::string(text), &time, &error)) {
    return absl::InvalidArgumentError(
        absl::StrCat("time \"", text.substr(0, 64), "\" is not RFC 3339: ", error));
  }
  return time;
}

ImageConfig::ImageConfig()
    : document_({{"architecture", HostArchitecture()},
                 {"os", "linux"},
                 {"config", json::object()},
                 {"rootfs", {{"type", "layers"}, {"diff_ids", json::array()}}},
                 {"history", json::array()}}) {}

absl::StatusOr<ImageConfig> ImageConfig::Parse(absl::string_view text) {
  json document = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded()) return Invalid("document", "is not valid JSON");
  if (!document.is_object()) return Invalid("document", "must be a JSON object");

  if (!document.contains("rootfs") || !document["rootfs"].is_object()) {
    return Invalid("rootfs", "is missing or not an object");
  }
  const json& rootfs = document["rootfs"];
  if (StringOr(rootfs, "type") != "layers") return Invalid("rootfs.type", "must be \"layers\"");
  if (!rootfs.contains("diff_ids") || !rootfs["diff_ids"].is_array()) {
    return Invalid("rootfs.diff_ids", "is missing or not a list");
  }
  for (const json& diff_id : rootfs["diff_ids"]) {
    if (!diff_id.is_string()) return Invalid("rootfs.diff_ids", "must hold strings");
    auto digest = Digest::Parse(diff_id.get<std::string>());
    if (!digest.ok()) return Invalid("rootfs.diff_ids", digest.status().message());
  }

  for (const char* key : {"created", "author", "architecture", "os"}) {
    auto status = CheckString(document, key, "");
    if (!status.ok()) return status;
  }
  if (document.contains("created") && document["created"].is_string()) {
    auto created = ParseRfc3339(document["created"].get<std::string>());
    if (!created.ok()) return Invalid("created", created.status().message());
  }

  if (document.contains("config") && !document["config"].is_null()) {
    const json& config = document["config"];
    if (!config.is_object()) return Invalid("config", "must be an object");
    for (const char* key : {"Env", "Entrypoint", "Cmd", "OnBuild"}) {
      auto status = CheckStringList(config, key, "config");
      if (!status.ok()) return status;
    }
    for (const char* key : {"User", "WorkingDir", "StopSignal"}) {
      auto status = CheckString(config, key, "config");
      if (!status.ok()) return status;
    }
    for (auto [key, strings] : {std::pair{"Labels", true}, std::pair{"ExposedPorts", false},
                                std::pair{"Volumes", false}}) {
      auto status = CheckObjectOfStrings(config, key, "config", strings);
      if (!status.ok()) return status;
    }
  }

  if (document.contains("history") && !document["history"].is_null()) {
    if (!document["history"].is_array()) return Invalid("history", "must be a list");
    for (const json& step : document["history"]) {
      if (!step.is_object()) return Invalid("history", "must hold objects");
      for (const char* key : {"created", "created_by", "author", "comment"}) {
        auto status = CheckString(step, key, "history[]");
        if (!status.ok()) return status;
      }
      if (step.contains("empty_layer") && !step["empty_layer"].is_boolean()) {
        return Invalid("history[].empty_layer", "must be a boolean");
      }
    }
  }
  return ImageConfig(std::move(document));
}

std::string ImageConfig::Serialize() const { return document_.dump(); }

RunConfig ImageConfig::run_config() const {
  RunConfig out;
  auto it = document_.find("config");
  if (it == document_.end() || !it->is_object()) return out;
  const json& config = *it;
  out.user = StringOr(config, "User");
  out.working_dir = StringOr(config, "WorkingDir");
  out.stop_signal = StringOr(config, "StopSignal");
  if (config.contains("Env")) out.env = StringList(config["Env"]);
  if (config.contains("Entrypoint") && config["Entrypoint"].is_array()) {
    out.entrypoint = StringList(config["Entrypoint"]);
  }
  if (config.contains("Cmd") && config["Cmd"].is_array()) out.cmd = StringList(config["Cmd"]);
  if (config.contains("OnBuild") && config["OnBuild"].is_array()) {
    out.on_build = StringList(config["OnBuild"]);
  }
  if (config.contains("Labels") && config["Labels"].is_object()) {
    for (const auto& item : config["Labels"].items()) {
      out.labels[item.key()] = item.value().get<std::string>();
    }
  }
  for (const char* key : {"ExposedPorts", "Volumes"}) {
    if (!config.contains(key) || !config[key].is_object()) continue;
    auto& list = std::string(key) == "ExposedPorts" ? out.exposed_ports : out.volumes;
    for (const auto& item : config[key].items()) list.push_back(item.key());
  }
  return out;
}

void ImageConfig::set_run_config(const RunConfig& run) {
  json& config = document_["config"];
  if (!config.is_object()) config = json::object();
  auto set_string = [&config](const char* key, const std::string& value) {
    if (value.empty()) {
      config.erase(key);
    } else {
      config[key] = value;
    }
  };
  set_string("User", run.user);
  set_string("WorkingDir", run.working_dir);
  set_string("StopSignal", run.stop_signal);
  if (run.env.empty()) {
    config.erase("Env");
  } else {
    config["Env"] = run.env;
  }
  if (run.entrypoint) {
    config["Entrypoint"] = *run.entrypoint;
  } else {
    config.erase("Entrypoint");
  }
  if (run.cmd) {
    config["Cmd"] = *run.cmd;
  } else {
    config.erase("Cmd");
  }
  if (run.on_build.empty()) {
    config.erase("OnBuild");
  } else {
    config["OnBuild"] = run.on_build;
  }
  if (run.labels.empty()) {
    config.erase("Labels");
  } else {
    config["Labels"] = run.labels;
  }
  auto set_set = [&config](const char* key, const std::vector<std::string>& keys) {
    if (keys.empty()) {
      config.erase(key);
      return;
    }
    json object = json::object();
    for (const std::string& k : keys) object[k] = json::object();
    config[key] = object;
  };
  set_set("ExposedPorts", run.exposed_ports);
  set_set("Volumes", run.volumes);
}

std::vector<Digest> ImageConfig::diff_ids() const {
  std::vector<Digest> out;
  for (const json& diff_id : document_["rootfs"]["diff_ids"]) {
    out.push_back(*Digest::Parse(diff_id.get<std::string>()));
  }
  return out;
}

std::vector<History> ImageConfig::history() const {
  std::vector<History> out;
  auto it = document_.find("history");
  if (it == document_.end() || !it->is_array()) return out;
  for (const json& step : *it) {
    History entry;
    entry.created = StringOr(step, "created");
    entry.created_by = StringOr(step, "created_by");
    entry.author = StringOr(step, "author");
    entry.comment = StringOr(step, "comment");
    entry.empty_layer = step.contains("empty_layer") && step["empty_layer"].get<bool>();
    out.push_back(std::move(entry));
  }
  return out;
}

void ImageConfig::AddLayer(const Digest& diff_id, const History& step) {
  document_["rootfs"]["diff_ids"].push_back(diff_id.str());
  History layer_step = step;
  layer_step.empty_layer = false;
  if (!document_["history"].is_array()) document_["history"] = json::array();
  document_["history"].push_back(HistoryToJson(layer_step));
}

void ImageConfig::AddEmptyStep(History step) {
  step.empty_layer = true;
  if (!document_["history"].is_array()) document_["history"] = json::array();
  document_["history"].push_back(HistoryToJson(step));
}

std::string ImageConfig::created() const { return StringOr(document_, "created"); }
void ImageConfig::set_created(const std::string& created) { document_["created"] = created; }
std::string ImageConfig::author() const { return StringOr(document_, "author"); }
void ImageConfig::set_author(const std::string& author) {
  if (author.empty()) {
    document_.erase("author");
  } else {
    document_["author"] = author;
  }
}
std::string ImageConfig::architecture() const { return StringOr(document_, "architecture"); }
std::string ImageConfig::os() const { return StringOr(document_, "os"); }

}  // namespace strata::oci
