// strata inspect: low-level information on containers and images, as JSON (docker's keys).

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "cli/core/gateway.h"
#include "cli/inspect_json.h"
#include "cli/template.h"
#include "cli/util.h"

namespace strata::cli {
namespace {

namespace ig = ::strata::imagegraph::v1;
namespace rt = ::strata::runtime::v1;

// Finds NAME as a container, then as an image (as docker does), unless `type` names one kind.
// A service that could not answer is reported as such, not as "no such object".
absl::StatusOr<Json> InspectOne(gateway::Gateway& gateway, const std::string& type,
                                const std::string& name) {
  absl::Status cause;
  if (type != "image") {
    absl::StatusOr<rt::Container> container = gateway.InspectContainer(name);
    if (container.ok()) return ContainerInspectJson(*container);
    if (!absl::IsNotFound(container.status())) {
      if (type == "container") return container.status();
      cause = container.status();
    }
  }
  if (type != "container") {
    absl::StatusOr<ig::Image> image = gateway.InspectImage(name);
    if (image.ok()) return ImageInspectJson(*image);
    if (!absl::IsNotFound(image.status())) return image.status();
  }
  if (!cause.ok()) return cause;
  return absl::NotFoundError(absl::StrCat("No such object: ", name));
}

// docker inspect: a JSON array of what was found, or the template's output per object (the
// template is checked before anything is looked up). Exit 1 when anything was not found.
int Inspect(Globals& globals, const std::string& type, const std::string& format,
            const std::vector<std::string>& names) {
  std::optional<Template> tmpl;
  if (!format.empty() && format != "json") {
    absl::StatusOr<Template> parsed = Template::Parse(format);
    if (!parsed.ok()) return FailPlain(absl::StrCat("template parsing error: ", parsed.status().message()));
    tmpl = *std::move(parsed);
  }
  gateway::Gateway gateway(globals.Endpoints());
  Json out = Json::array();
  std::string text;
  int code = 0;
  for (const std::string& name : names) {
    absl::StatusOr<Json> object = InspectOne(gateway, type, name);
    if (!object.ok()) {
      // docker inspect's own words: "Error: No such object: X" (not the daemon's).
      code = absl::IsNotFound(object.status()) ? Fail(std::string(object.status().message()))
                                               : Fail(object.status());
      continue;
    }
    if (!tmpl.has_value()) {
      out.push_back(*std::move(object));
      continue;
    }
    absl::StatusOr<std::string> line = tmpl->Execute(*object);
    if (!line.ok()) {
      std::fputs(text.c_str(), stdout);
      return FailPlain(absl::StrCat("template parsing error: ", line.status().message()));
    }
    absl::StrAppend(&text, *line, "\n");
  }
  if (tmpl.has_value()) {
    std::fputs(text.c_str(), stdout);
  } else {
    std::printf("%s\n", out.dump(4).c_str());
  }
  return code;
}

}  // namespace

void RegisterInspectCommand(CLI::App& app, Globals& globals, int* exit_code) {
  CLI::App* command =
      app.add_subcommand("inspect", "Return low-level information on containers and images");
  auto type = std::make_shared<std::string>();
  auto names = std::make_shared<std::vector<std::string>>();
  auto format = std::make_shared<std::string>();
  command->add_option("--type", *type, "Only \"container\" or \"image\"")
      ->check(CLI::IsMember({"container", "image"}));
  command->add_option("-f,--format", *format,
                      "Format output using a Go template ('json' or '' for JSON)");
  command->add_option("names", *names, "NAME|ID...")->required();
  command->callback([=, &globals] { *exit_code = Inspect(globals, *type, *format, *names); });
}

}  // namespace strata::cli
