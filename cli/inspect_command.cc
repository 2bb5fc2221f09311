// strata inspect: low-level information on containers and images, as JSON (docker's keys).

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "cli/core/gateway.h"
#include "cli/util.h"
#include "lib/oci/image_config.h"
#include "lib/rpc/time.h"
#include "nlohmann/json.hpp"

namespace strata::cli {
namespace {

namespace ig = ::strata::imagegraph::v1;
namespace rt = ::strata::runtime::v1;
using nlohmann::json;

std::string TimeText(const google::protobuf::Timestamp& timestamp) {
  absl::Time time = rpc::FromTimestamp(timestamp);
  return time == absl::InfinitePast() ? "0001-01-01T00:00:00Z" : oci::FormatRfc3339(time);
}

json ContainerJson(const rt::Container& container) {
  static const char* kStates[] = {"unknown", "created", "running", "paused", "exited"};
  const int state = std::min<int>(container.state(), 4);
  json labels = json::object();
  for (const auto& [key, value] : container.config().labels()) labels[key] = value;
  std::vector<std::string> args(container.args().begin(), container.args().end());
  json layers = json::array();
  for (const auto& layer : container.layers()) layers.push_back(layer.digest());
  return {
      {"Id", container.id()},
      {"Created", TimeText(container.created())},
      {"Path", args.empty() ? "" : args[0]},
      {"Args", args.empty() ? std::vector<std::string>{}
                            : std::vector<std::string>(args.begin() + 1, args.end())},
      {"State",
       {{"Status", kStates[state]},
        {"Running", container.state() == rt::RUNNING || container.state() == rt::PAUSED},
        {"Paused", container.state() == rt::PAUSED},
        {"Pid", container.pid()},
        {"ExitCode", container.exit_code()},
        {"Error", container.error()},
        {"StartedAt", TimeText(container.started())},
        {"FinishedAt", TimeText(container.finished())}}},
      {"Image", container.image_id()},
      {"Name", "/" + container.name()},
      {"Config",
       {{"Hostname", container.hostname()},
        {"User", container.config().user()},
        {"Tty", container.tty()},
        {"OpenStdin", container.open_stdin()},
        {"Env", std::vector<std::string>(container.config().env().begin(),
                                         container.config().env().end())},
        {"Cmd", std::vector<std::string>(container.config().cmd().begin(),
                                         container.config().cmd().end())},
        {"Entrypoint", std::vector<std::string>(container.config().entrypoint().begin(),
                                                container.config().entrypoint().end())},
        {"WorkingDir", container.config().working_dir()},
        {"StopSignal", container.config().stop_signal()},
        {"Labels", labels},
        {"Image", container.image_ref()}}},
      {"HostConfig", {{"NetworkMode", container.network()}}},
      {"GraphDriver",
       {{"Name", "overlay"},
        {"Data", {{"UpperDir", container.upper_dir()}, {"MergedDir", container.rootfs()}}}}},
      {"Layers", layers},
  };
}

json ImageJsonOf(const ig::Image& image, const json& config);

absl::StatusOr<json> ImageJson(const ig::Image& image) {
  json config = json::parse(image.config(), nullptr, false);
  if (!config.is_object()) return absl::DataLossError("image config is not JSON");
  try {
    return ImageJsonOf(image, config);
  } catch (const json::exception& error) {
    return absl::DataLossError(absl::StrCat("image ", image.id(), ": config: ", error.what()));
  }
}

// Throws json::exception when the config's fields have unexpected types.
json ImageJsonOf(const ig::Image& image, const json& config) {
  std::string comment;
  if (config.contains("history") && config["history"].is_array() && !config["history"].empty()) {
    comment = config["history"].back().value("comment", "");
  }
  json layers = json::array();
  for (int i = 0; i < image.layers_size(); ++i) {
    const auto& layer = image.layers(i);
    layers.push_back({{"Digest", layer.digest()},
                      {"DiffID", layer.diff_id()},
                      {"ChainID", i < image.chain_ids_size() ? image.chain_ids(i) : ""},
                      {"MediaType", layer.media_type()},
                      {"Size", layer.size()},
                      {"UncompressedSize", layer.uncompressed_size()}});
  }
  return json{
      {"Id", image.id()},
      {"RepoTags", std::vector<std::string>(image.tags().begin(), image.tags().end())},
      {"RepoDigests",
       std::vector<std::string>(image.repo_digests().begin(), image.repo_digests().end())},
      {"Parent", image.parent_id()},
      {"Comment", comment},
      {"Created", config.value("created", "")},
      {"Author", config.value("author", "")},
      {"Config", config.value("config", json::object())},
      {"Architecture", config.value("architecture", "")},
      {"Os", config.value("os", "")},
      {"Size", image.size()},
      {"RootFS", config.value("rootfs", json::object())},
      {"History", config.value("history", json::array())},
      {"Layers", layers},
      {"Children", image.child_count()},
  };
}

// Finds NAME as a container, then as an image (as docker does), unless `type` names one kind.
// A service that could not answer is reported as such, not as "no such object".
absl::StatusOr<json> InspectOne(gateway::Gateway& gateway, const std::string& type,
                                const std::string& name) {
  absl::Status cause;
  if (type != "image") {
    absl::StatusOr<rt::Container> container = gateway.InspectContainer(name);
    if (container.ok()) return ContainerJson(*container);
    if (!absl::IsNotFound(container.status())) {
      if (type == "container") return container.status();
      cause = container.status();
    }
  }
  if (type != "container") {
    absl::StatusOr<ig::Image> image = gateway.InspectImage(name);
    if (image.ok()) return ImageJson(*image);
    if (!absl::IsNotFound(image.status())) return image.status();
  }
  if (!cause.ok()) return cause;
  return absl::NotFoundError(absl::StrCat("No such object: ", name));
}

}  // namespace

void RegisterInspectCommand(CLI::App& app, Globals& globals, int* exit_code) {
  CLI::App* command =
      app.add_subcommand("inspect", "Return low-level information on containers and images");
  auto type = std::make_shared<std::string>();
  auto names = std::make_shared<std::vector<std::string>>();
  command->add_option("--type", *type, "Only \"container\" or \"image\"")
      ->check(CLI::IsMember({"container", "image"}));
  command->add_option("names", *names, "NAME|ID...")->required();
  command->callback([=, &globals] {
    gateway::Gateway gateway(globals.Endpoints());
    json out = json::array();
    int code = 0;
    for (const std::string& name : *names) {
      absl::StatusOr<json> object = InspectOne(gateway, *type, name);
      if (object.ok()) {
        out.push_back(*std::move(object));
      } else {
        code = Fail(object.status());
      }
    }
    std::printf("%s\n", out.dump(4).c_str());
    *exit_code = code;
  });
}

}  // namespace strata::cli
