// strata version: the client's version.

#include <cstdio>

#include "cli/commands.h"
#include "lib/base/version.h"

namespace strata::cli {

void RegisterVersionCommand(CLI::App& app, Globals& /*globals*/, int* exit_code) {
  CLI::App* command = app.add_subcommand("version", "Show the strata version");
  command->callback([exit_code] {
    std::printf("strata version %s\n", kVersion);
    *exit_code = 0;
  });
}

}  // namespace strata::cli
