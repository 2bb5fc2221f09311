#include "cli/inspect_json.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "lib/oci/image_config.h"
#include "lib/rpc/time.h"

namespace strata::cli {
namespace {

namespace ig = ::strata::imagegraph::v1;
namespace rt = ::strata::runtime::v1;

constexpr char kZeroTime[] = "0001-01-01T00:00:00Z";

std::string TimeText(const google::protobuf::Timestamp& timestamp) {
  absl::Time time = rpc::FromTimestamp(timestamp);
  return time == absl::InfinitePast() ? kZeroTime : oci::FormatRfc3339(time);
}

template <typename List>
Json Strings(const List& list) {
  Json out = Json::array();
  for (const auto& item : list) out.push_back(item);
  return out;
}

// A list that Go leaves nil when empty (docker prints null).
template <typename List>
Json NullableStrings(const List& list) {
  return list.empty() ? Json() : Strings(list);
}

// docker's sets ("80/tcp": {}), null when empty.
template <typename List>
Json Set(const List& keys) {
  if (keys.empty()) return Json();
  std::vector<std::string> sorted(keys.begin(), keys.end());
  std::sort(sorted.begin(), sorted.end());
  Json out = Json::object();
  for (const std::string& key : sorted) out[key] = Json::object();
  return out;
}

Json Value(const Json& object, const char* key) {
  if (!object.is_object()) return Json();
  auto found = object.find(key);
  return found == object.end() ? Json() : *found;
}

}  // namespace

Json DockerRunConfig(const Json& config) {
  Json out = Json::object();
  auto text = [&config](const char* key) {
    Json value = Value(config, key);
    return value.is_string() ? value : Json("");
  };
  out["Hostname"] = text("Hostname");
  out["Domainname"] = text("Domainname");
  out["User"] = text("User");
  out["AttachStdin"] = false;
  out["AttachStdout"] = false;
  out["AttachStderr"] = false;
  if (!Value(config, "ExposedPorts").is_null()) out["ExposedPorts"] = Value(config, "ExposedPorts");
  out["Tty"] = false;
  out["OpenStdin"] = false;
  out["StdinOnce"] = false;
  out["Env"] = Value(config, "Env");
  out["Cmd"] = Value(config, "Cmd");
  if (!Value(config, "Healthcheck").is_null()) out["Healthcheck"] = Value(config, "Healthcheck");
  if (!Value(config, "ArgsEscaped").is_null()) out["ArgsEscaped"] = Value(config, "ArgsEscaped");
  out["Image"] = text("Image");
  out["Volumes"] = Value(config, "Volumes");
  out["WorkingDir"] = text("WorkingDir");
  out["Entrypoint"] = Value(config, "Entrypoint");
  out["OnBuild"] = Value(config, "OnBuild");
  out["Labels"] = Value(config, "Labels");
  if (!Value(config, "StopSignal").is_null()) out["StopSignal"] = Value(config, "StopSignal");
  if (!Value(config, "Shell").is_null()) out["Shell"] = Value(config, "Shell");
  return out;
}

absl::StatusOr<Json> ImageInspectJson(const ig::Image& image) {
  // Parsed sorted (as Go marshals maps), then kept in that order.
  nlohmann::json sorted = nlohmann::json::parse(image.config(), nullptr, false);
  if (!sorted.is_object()) return absl::DataLossError(absl::StrCat("image ", image.id(), ": config is not JSON"));
  const Json config = Json::parse(sorted.dump());
  const Json history = Value(config, "history");
  std::string comment;
  if (history.is_array() && !history.empty() && history.back().is_object() &&
      history.back().value("comment", Json("")).is_string()) {
    comment = history.back().value("comment", "");
  }
  auto text = [&config](const char* key) {
    Json value = Value(config, key);
    return value.is_string() ? value : Json("");
  };
  Json out = Json::object();
  out["Id"] = image.id();
  out["RepoTags"] = Strings(image.tags());
  out["RepoDigests"] = Strings(image.repo_digests());
  out["Parent"] = image.parent_id();
  out["Comment"] = comment;
  out["Created"] = text("created");
  if (!Value(config, "container").is_null()) out["Container"] = Value(config, "container");
  // Images committed by docker carry the container's config; others get docker's empty one.
  out["ContainerConfig"] = DockerRunConfig(Value(config, "container_config"));
  out["DockerVersion"] = text("docker_version");
  out["Author"] = text("author");
  out["Config"] = DockerRunConfig(Value(config, "config"));
  out["Architecture"] = text("architecture");
  if (!Value(config, "variant").is_null()) out["Variant"] = Value(config, "variant");
  out["Os"] = text("os");
  if (!Value(config, "os.version").is_null()) out["OsVersion"] = Value(config, "os.version");
  out["Size"] = image.size();
  out["GraphDriver"] = {{"Data", nullptr}, {"Name", "overlay"}};
  const Json rootfs = Value(config, "rootfs");
  out["RootFS"] = {{"Type", Value(rootfs, "type").is_string() ? Value(rootfs, "type") : Json("layers")},
                   {"Layers", Value(rootfs, "diff_ids").is_array() ? Value(rootfs, "diff_ids")
                                                                    : Json::array()}};
  // docker's zero time for an image that was never tagged (or lost its tags).
  out["Metadata"] = {{"LastTagTime", image.has_last_tag_time()
                                         ? TimeText(image.last_tag_time())
                                         : std::string(kZeroTime)}};
  Json layers = Json::array();
  for (int i = 0; i < image.layers_size(); ++i) {
    const auto& layer = image.layers(i);
    layers.push_back({{"Digest", layer.digest()},
                      {"DiffID", layer.diff_id()},
                      {"ChainID", i < image.chain_ids_size() ? image.chain_ids(i) : ""},
                      {"MediaType", layer.media_type()},
                      {"Size", layer.size()},
                      {"UncompressedSize", layer.uncompressed_size()}});
  }
  out["Strata"] = {{"Layers", layers},
                   {"Children", image.child_count()},
                   {"History", history.is_array() ? history : Json::array()}};
  return out;
}

Json ContainerInspectJson(const rt::Container& container) {
  static const char* kStates[] = {"unknown", "created", "running", "paused", "exited"};
  const int state = std::clamp<int>(container.state(), 0, 4);
  const std::vector<std::string> args(container.args().begin(), container.args().end());
  const auto& config = container.config();
  Json out = Json::object();
  out["Id"] = container.id();
  out["Created"] = TimeText(container.created());
  out["Path"] = args.empty() ? "" : args[0];
  out["Args"] = args.empty() ? Json::array() : Strings(std::vector<std::string>(args.begin() + 1, args.end()));
  out["State"] = {
      {"Status", kStates[state]},
      {"Running", container.state() == rt::RUNNING || container.state() == rt::PAUSED},
      {"Paused", container.state() == rt::PAUSED},
      {"Restarting", false},
      {"OOMKilled", false},
      {"Dead", false},
      {"Pid", container.pid()},
      {"ExitCode", container.exit_code()},
      {"Error", container.error()},
      {"StartedAt", TimeText(container.started())},
      {"FinishedAt", TimeText(container.finished())}};
  out["Image"] = container.image_id();
  out["ResolvConfPath"] = "";
  out["HostnamePath"] = "";
  out["HostsPath"] = "";
  out["LogPath"] = "";
  out["Name"] = "/" + container.name();
  out["RestartCount"] = 0;
  out["Driver"] = "overlay";
  out["Platform"] = "linux";
  out["MountLabel"] = "";
  out["ProcessLabel"] = "";
  out["AppArmorProfile"] = "";
  out["ExecIDs"] = nullptr;
  Json binds = Json::array();
  Json tmpfs = Json::object();
  Json mounts = Json::array();
  for (const auto& mount : container.mounts()) {
    const bool bind = mount.type() == "bind";
    if (bind) {
      binds.push_back(absl::StrCat(mount.source(), ":", mount.target(), mount.readonly() ? ":ro" : ""));
    } else {
      std::string options;
      for (const std::string& option : mount.options()) {
        absl::StrAppend(&options, options.empty() ? "" : ",", option);
      }
      tmpfs[mount.target()] = options;
    }
    mounts.push_back({{"Type", mount.type()},
                      {"Source", mount.source()},
                      {"Destination", mount.target()},
                      {"Mode", bind && mount.readonly() ? "ro" : ""},
                      {"RW", !mount.readonly()},
                      {"Propagation", bind ? "rprivate" : ""}});
  }
  out["HostConfig"] = {{"Binds", binds.empty() ? Json() : binds},
                       {"NetworkMode", container.network().empty() ? "host" : container.network()},
                       {"RestartPolicy", {{"Name", "no"}, {"MaximumRetryCount", 0}}},
                       {"AutoRemove", false},
                       {"Tmpfs", tmpfs.empty() ? Json() : tmpfs}};
  out["GraphDriver"] = {
      {"Data", {{"MergedDir", container.rootfs()}, {"UpperDir", container.upper_dir()}}},
      {"Name", "overlay"}};
  out["Mounts"] = mounts;
  Json labels = Json::object();
  std::vector<std::string> keys;
  for (const auto& [key, value] : config.labels()) keys.push_back(key);
  std::sort(keys.begin(), keys.end());
  for (const std::string& key : keys) labels[key] = config.labels().at(key);
  Json docker_config = Json::object();
  docker_config["Hostname"] = container.hostname();
  docker_config["Domainname"] = "";
  docker_config["User"] = config.user();
  docker_config["AttachStdin"] = container.open_stdin();
  docker_config["AttachStdout"] = true;
  docker_config["AttachStderr"] = true;
  if (!config.exposed_ports().empty()) docker_config["ExposedPorts"] = Set(config.exposed_ports());
  docker_config["Tty"] = container.tty();
  docker_config["OpenStdin"] = container.open_stdin();
  docker_config["StdinOnce"] = false;
  docker_config["Env"] = NullableStrings(config.env());
  docker_config["Cmd"] = NullableStrings(config.cmd());
  docker_config["Image"] = container.image_ref();
  docker_config["Volumes"] = Set(config.volumes());
  docker_config["WorkingDir"] = config.working_dir();
  docker_config["Entrypoint"] = NullableStrings(config.entrypoint());
  docker_config["OnBuild"] = nullptr;
  docker_config["Labels"] = labels;
  if (!config.stop_signal().empty()) docker_config["StopSignal"] = config.stop_signal();
  out["Config"] = docker_config;
  const std::string network = container.network().empty() ? "host" : container.network();
  out["NetworkSettings"] = {{"Networks", {{network, Json::object()}}}};
  out["Strata"] = {{"Layers", Strings([&container] {
                      std::vector<std::string> digests;
                      for (const auto& layer : container.layers()) digests.push_back(layer.digest());
                      return digests;
                    }())}};
  return out;
}

}  // namespace strata::cli
