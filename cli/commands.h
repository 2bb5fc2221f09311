#ifndef STRATA_CLI_COMMANDS_H_
#define STRATA_CLI_COMMANDS_H_

// Each strata subcommand registers itself on the top-level app. A command's callback sets
// *exit_code; errors print one line on stderr ("Error: <message>") and exit non-zero.

#include "CLI/CLI.hpp"
#include "cli/globals.h"

namespace strata::cli {

void RegisterVersionCommand(CLI::App& app, Globals& globals, int* exit_code);
void RegisterStatusCommand(CLI::App& app, Globals& globals, int* exit_code);
// images, tag, rmi, history
void RegisterImageCommands(CLI::App& app, Globals& globals, int* exit_code);
// run, create, start, exec, ps, stop, kill, pause, unpause, rm, wait, logs, diff
void RegisterContainerCommands(CLI::App& app, Globals& globals, int* exit_code);
// commit, export, cp, import
void RegisterTransferCommands(CLI::App& app, Globals& globals, int* exit_code);
void RegisterInspectCommand(CLI::App& app, Globals& globals, int* exit_code);

}  // namespace strata::cli

#endif  // STRATA_CLI_COMMANDS_H_
