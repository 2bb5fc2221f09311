// Image commands: images, tag, rmi.

#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "cli/core/gateway.h"
#include "cli/util.h"
#include "lib/base/errors.h"
#include "lib/rpc/time.h"
#include "lib/reference/reference.h"

namespace strata::cli {
namespace {

namespace ig = ::strata::imagegraph::v1;

std::string DisplayId(const std::string& id, bool no_trunc) {
  return no_trunc ? id : ShortId(id);
}

int Images(Globals& globals, bool all, bool quiet, bool no_trunc, const std::string& filter) {
  gateway::Gateway gateway(globals.Endpoints());
  ig::ListImagesRequest request;
  request.set_all(all);
  std::string tag_filter;
  if (!filter.empty()) {
    ASSIGN_OR_FAIL(Reference reference, ParseReference(filter));
    request.set_repository(reference.name);
    // "app" lists every tag of app; "app:1" only that one.
    if (filter.find(':', filter.rfind('/') == std::string::npos ? 0 : filter.rfind('/')) !=
        std::string::npos) {
      tag_filter = reference.tag;
    }
  }
  ASSIGN_OR_FAIL(std::vector<ig::Image> images, gateway.ListAllImages(request));
  Table table({"REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"});
  std::set<std::string> printed_ids;
  const absl::Time now = absl::Now();
  for (const ig::Image& image : images) {
    std::vector<std::pair<std::string, std::string>> names;
    for (const std::string& tag : image.tags()) {
      const size_t colon = tag.rfind(':');
      std::string repository = tag.substr(0, colon);
      std::string tag_name = tag.substr(colon + 1);
      if (!filter.empty() && repository != request.repository()) continue;
      if (!tag_filter.empty() && tag_name != tag_filter) continue;
      names.emplace_back(std::move(repository), std::move(tag_name));
    }
    if (names.empty()) {
      if (!filter.empty()) continue;
      names.emplace_back("<none>", "<none>");
    }
    if (quiet) {
      if (printed_ids.insert(image.id()).second) {
        std::printf("%s\n", DisplayId(image.id(), no_trunc).c_str());
      }
      continue;
    }
    for (const auto& [repository, tag] : names) {
      table.Add({repository, tag, DisplayId(image.id(), no_trunc),
                 TimeAgo(rpc::FromTimestamp(image.created()), now), HumanSize(image.size())});
    }
  }
  if (!quiet) std::fputs(table.Render().c_str(), stdout);
  return 0;
}

int Tag(Globals& globals, const std::string& source, const std::string& target) {
  gateway::Gateway gateway(globals.Endpoints());
  ig::TagRequest request;
  request.set_image(source);
  request.set_target(target);
  ASSIGN_OR_FAIL(ig::TagResponse tagged, gateway.TagImage(request));
  return 0;
}

// docker rmi, image by image: prints what was untagged and deleted.
int RemoveImages(Globals& globals, const std::vector<std::string>& refs, bool force) {
  gateway::Gateway gateway(globals.Endpoints());
  int code = 0;
  for (const std::string& ref : refs) {
    ig::DeleteImageRequest request;
    request.set_ref(ref);
    request.set_force(force);
    absl::StatusOr<ig::DeleteImageResponse> removed = gateway.RemoveImage(request);
    if (!removed.ok()) {
      code = Fail(removed.status());
      continue;
    }
    for (const std::string& untagged : removed->untagged()) {
      std::printf("Untagged: %s\n", untagged.c_str());
    }
    for (const std::string& deleted : removed->deleted()) {
      std::printf("Deleted: %s\n", deleted.c_str());
    }
  }
  return code;
}

}  // namespace

void RegisterImageCommands(CLI::App& app, Globals& globals, int* exit_code) {
  {
    CLI::App* command = app.add_subcommand("images", "List images");
    auto all = std::make_shared<bool>(false);
    auto quiet = std::make_shared<bool>(false);
    auto no_trunc = std::make_shared<bool>(false);
    auto filter = std::make_shared<std::string>();
    command->add_flag("-a,--all", *all, "Show all images (default hides intermediate images)");
    command->add_flag("-q,--quiet", *quiet, "Only show image IDs");
    command->add_flag("--no-trunc", *no_trunc, "Don't truncate output");
    command->add_option("repository", *filter, "Only this REPOSITORY[:TAG]");
    command->callback([=, &globals] {
      *exit_code = Images(globals, *all, *quiet, *no_trunc, *filter);
    });
  }
  {
    CLI::App* command = app.add_subcommand("tag", "Create a tag TARGET that refers to SOURCE");
    auto source = std::make_shared<std::string>();
    auto target = std::make_shared<std::string>();
    command->add_option("source", *source, "SOURCE_IMAGE[:TAG] or image id")->required();
    command->add_option("target", *target, "TARGET_IMAGE[:TAG]")->required();
    command->callback([=, &globals] { *exit_code = Tag(globals, *source, *target); });
  }
  {
    CLI::App* command = app.add_subcommand("rmi", "Remove one or more images");
    auto force = std::make_shared<bool>(false);
    auto refs = std::make_shared<std::vector<std::string>>();
    command->add_flag("-f,--force", *force,
                      "Remove every tag of an image named by id (an image a container uses "
                      "keeps existing, untagged, until the container is removed)");
    command->add_option("images", *refs, "IMAGE...")->required();
    command->callback([=, &globals] { *exit_code = RemoveImages(globals, *refs, *force); });
  }
}

}  // namespace strata::cli
