// Disk usage and prune, as docker prints them: `strata system df [-v]`, `strata system prune`,
// `strata image prune`, `strata container prune`. The work is the gateway core's (prune.cc).

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cli/commands.h"
#include "cli/core/gateway.h"
#include "cli/format.h"
#include "cli/util.h"
#include "lib/rpc/time.h"

namespace strata::cli {
namespace {

namespace gw = ::strata::gateway::v1;
namespace ig = ::strata::imagegraph::v1;

// docker's tabwriter as `system df` sets it up: cells at least 10 wide.
constexpr size_t kDfMinWidth = 10;

// "11.63MB (70%)", as docker: the percentage only when there is a total.
std::string Reclaimable(int64_t reclaimable, int64_t total) {
  if (total <= 0) return HumanSize(reclaimable);
  return absl::StrCat(HumanSize(reclaimable), " (", reclaimable * 100 / total, "%)");
}

int Df(Globals& globals, bool verbose) {
  gateway::Gateway gateway(globals.Endpoints());
  gw::DiskUsageRequest request;
  request.set_verbose(verbose);
  ASSIGN_OR_FAIL(gw::DiskUsageResult usage, gateway.DiskUsage(request));
  if (!verbose) {
    std::fputs(
        AlignColumns({{"TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"},
                  {"Images", absl::StrCat(usage.images_total()),
                   absl::StrCat(usage.images_active()), HumanSize(usage.images_size()),
                   Reclaimable(usage.images_reclaimable(), usage.images_size())},
                  {"Containers", absl::StrCat(usage.containers_total()),
                   absl::StrCat(usage.containers_active()), HumanSize(usage.containers_size()),
                   Reclaimable(usage.containers_reclaimable(), usage.containers_size())},
                  {"Local Volumes", "0", "0", "0B", "0B"},
                  {"Build Cache", "0", "0", "0B", "0B"}},
                 kDfMinWidth)
            .c_str(),
        stdout);
    return 0;
  }
  const absl::Time now = absl::Now();
  std::vector<std::vector<std::string>> images = {{"REPOSITORY", "TAG", "IMAGE ID", "CREATED",
                                                   "SIZE", "SHARED SIZE", "UNIQUE SIZE",
                                                   "CONTAINERS"}};
  for (const gw::ImageUsage& image : usage.image_usage()) {
    std::vector<std::pair<std::string, std::string>> names;
    for (const std::string& tag : image.tags()) {
      const size_t colon = tag.rfind(':');
      names.emplace_back(tag.substr(0, colon), tag.substr(colon + 1));
    }
    if (names.empty()) names.emplace_back("<none>", "<none>");
    for (const auto& [repository, tag] : names) {
      images.push_back({repository, tag, ShortId(image.id()),
                        image.has_created() ? TimeAgo(rpc::FromTimestamp(image.created()), now)
                                            : "N/A",
                        HumanSize(image.size()), HumanSize(image.shared_size()),
                        HumanSize(image.size() - image.shared_size()),
                        absl::StrCat(image.containers())});
    }
  }
  std::vector<std::vector<std::string>> containers = {
      {"CONTAINER ID", "IMAGE", "COMMAND", "LOCAL VOLUMES", "SIZE", "CREATED", "STATUS",
       "NAMES"}};
  for (const gw::ContainerUsage& container : usage.container_usage()) {
    containers.push_back({container.id().substr(0, 12), container.image(),
                          absl::StrCat("\"", Ellipsis(container.command(), 20), "\""), "0",
                          "0B", TimeAgo(rpc::FromTimestamp(container.created()), now),
                          container.status(), container.name()});
  }
  std::printf("Images space usage:\n\n%s\nContainers space usage:\n\n%s\n",
              AlignColumns(images, kDfMinWidth).c_str(),
              AlignColumns(containers, kDfMinWidth).c_str());
  std::printf("Local Volumes space usage:\n\n%s\nBuild cache usage: 0B\n\n%s",
              AlignColumns({{"VOLUME NAME", "LINKS", "SIZE"}}, kDfMinWidth).c_str(),
              AlignColumns({{"CACHE ID", "CACHE TYPE", "DESCRIPTION", "SIZE", "CREATED",
                             "SHARED", "USED", "LAST USED"}},
                           kDfMinWidth)
                  .c_str());
  return 0;
}

// docker's prompt: anything but y or Y (or no answer) declines.
bool Confirm(const std::string& warning) {
  std::printf("%s\nAre you sure you want to continue? [y/N] ", warning.c_str());
  std::fflush(stdout);
  std::string answer;
  if (!std::getline(std::cin, answer)) {
    std::printf("\n");
    return false;
  }
  return answer == "y" || answer == "Y";
}

void PrintPruned(const gw::PruneResult& result, bool containers, bool images) {
  if (containers && !result.deleted_containers().empty()) {
    std::printf("Deleted Containers:\n");
    for (const std::string& id : result.deleted_containers()) std::printf("%s\n", id.c_str());
    std::printf("\n");
  }
  if (images && !result.images().empty()) {
    std::printf("Deleted Images:\n");
    for (const ig::DeleteImageResponse& image : result.images()) {
      for (const std::string& tag : image.untagged()) std::printf("untagged: %s\n", tag.c_str());
      for (const std::string& id : image.deleted()) std::printf("deleted: %s\n", id.c_str());
    }
    std::printf("\n");
  }
  std::printf("Total reclaimed space: %s\n", HumanSize(result.space_reclaimed()).c_str());
}

struct PruneFlags {
  bool all = false;
  bool force = false;
  std::vector<std::string> filters;
};

int PruneSystem(Globals& globals, const PruneFlags& flags) {
  const std::string warning =
      flags.all ? "WARNING! This will remove:\n"
                  "  - all stopped containers\n"
                  "  - all images without at least one container associated to them\n"
                : "WARNING! This will remove:\n"
                  "  - all stopped containers\n"
                  "  - all dangling images\n";
  if (!flags.force && !Confirm(warning)) return 0;
  gateway::Gateway gateway(globals.Endpoints());
  gw::PruneImagesRequest request;
  request.set_all(flags.all);
  for (const std::string& filter : flags.filters) request.add_filters(filter);
  ASSIGN_OR_FAIL(gw::PruneResult result, gateway.PruneSystem(request));
  PrintPruned(result, true, true);
  return 0;
}

int PruneImages(Globals& globals, const PruneFlags& flags) {
  const std::string warning =
      flags.all ? "WARNING! This will remove all images without at least one container "
                  "associated to them."
                : "WARNING! This will remove all dangling images.";
  if (!flags.force && !Confirm(warning)) return 0;
  gateway::Gateway gateway(globals.Endpoints());
  gw::PruneImagesRequest request;
  request.set_all(flags.all);
  for (const std::string& filter : flags.filters) request.add_filters(filter);
  ASSIGN_OR_FAIL(gw::PruneResult result, gateway.PruneImages(request));
  PrintPruned(result, false, true);
  return 0;
}

int PruneContainers(Globals& globals, const PruneFlags& flags) {
  if (!flags.force && !Confirm("WARNING! This will remove all stopped containers.")) return 0;
  gateway::Gateway gateway(globals.Endpoints());
  ASSIGN_OR_FAIL(gw::PruneResult result, gateway.PruneContainers());
  PrintPruned(result, true, false);
  return 0;
}

// The management group `name` (docker's `image`, `container`), added here unless another
// command file added it first.
CLI::App* Group(CLI::App& app, const std::string& name, const std::string& description) {
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
    if (sub->get_name() == name) return sub;
  }
  CLI::App* group = app.add_subcommand(name, description);
  group->require_subcommand(1);
  return group;
}

void AddPrune(CLI::App* parent, Globals& globals, int* exit_code, const char* description,
              bool with_all, bool with_filter, int (*run)(Globals&, const PruneFlags&)) {
  CLI::App* command = parent->add_subcommand("prune", description);
  auto flags = std::make_shared<PruneFlags>();
  if (with_all) {
    command->add_flag("-a,--all", flags->all,
                      "Remove all unused images, not just dangling ones");
  }
  command->add_flag("-f,--force", flags->force, "Do not prompt for confirmation");
  if (with_filter) {
    command->add_option("--filter", flags->filters, "Provide filter values (e.g. \"until=24h\")");
  }
  command->callback([=, &globals] { *exit_code = run(globals, *flags); });
}

}  // namespace

void RegisterPruneCommands(CLI::App& app, Globals& globals, int* exit_code) {
  CLI::App* system = Group(app, "system", "Manage Strata");
  CLI::App* df = system->add_subcommand("df", "Show disk usage");
  auto verbose = std::make_shared<bool>(false);
  df->add_flag("-v,--verbose", *verbose, "Show detailed information on space usage");
  df->callback([=, &globals] { *exit_code = Df(globals, *verbose); });
  AddPrune(system, globals, exit_code, "Remove unused data", true, true, PruneSystem);
  AddPrune(Group(app, "image", "Manage images"), globals, exit_code, "Remove unused images",
           true, true, PruneImages);
  AddPrune(Group(app, "container", "Manage containers"), globals, exit_code,
           "Remove all stopped containers", false, false, PruneContainers);
}

}  // namespace strata::cli
