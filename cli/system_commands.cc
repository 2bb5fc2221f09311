// System commands: `strata system check`.

#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/commands.h"
#include "cli/core/gateway.h"
#include "cli/format.h"
#include "cli/progress.h"
#include "cli/util.h"

namespace strata::cli {
namespace {

namespace gw = ::strata::gateway::v1;

// How a broken image is named: its tags, else its short id; and what the blob is to it.
std::string ImageName(const gw::BrokenImage& image) {
  std::string name = image.tags().empty() ? ShortId(image.id()) : absl::StrJoin(image.tags(), ",");
  if (image.role() == "config") absl::StrAppend(&name, " (config)");
  return name;
}

int Check(Globals& globals) {
  gateway::Gateway gateway(globals.Endpoints());
  gw::CheckSystemResult result;
  {
    TerminalProgress progress;
    ASSIGN_OR_FAIL(result, gateway.CheckSystem(&progress));
    progress.Done();
  }
  std::printf("%lld %s checked (%s), %d damaged\n",
              static_cast<long long>(result.blobs_checked()),
              result.blobs_checked() == 1 ? "blob" : "blobs",
              HumanSize(result.bytes_checked()).c_str(), result.damaged_size());
  if (result.damaged().empty()) return 0;
  Table table({"BLOB", "SIZE", "IMAGES", "QUARANTINED TO"});
  for (const gw::DamagedBlob& blob : result.damaged()) {
    std::vector<std::string> images;
    for (const gw::BrokenImage& image : blob.images()) images.push_back(ImageName(image));
    table.Add({blob.digest(), HumanSize(blob.size()),
               images.empty() ? "<none>" : absl::StrJoin(images, " "),
               blob.quarantined_to().empty() ? absl::StrCat("not moved: ", blob.quarantine_error())
                                             : blob.quarantined_to()});
  }
  std::fputs(table.Render().c_str(), stdout);
  std::fprintf(stderr,
               "Damaged blobs were taken out of service. Import, pull or commit the same "
               "content again to repair the images named, or remove them.\n");
  return 1;
}

}  // namespace

void RegisterSystemCommands(CLI::App& app, Globals& globals, int* exit_code) {
  CLI::App* system = app.add_subcommand("system", "Manage Strata");
  system->require_subcommand(1);
  CLI::App* check = system->add_subcommand(
      "check",
      "Verify every stored blob against its digest; quarantine the damaged ones and name the "
      "images they break (exit code 1 when any is damaged)");
  check->callback([&globals, exit_code] { *exit_code = Check(globals); });
}

}  // namespace strata::cli
