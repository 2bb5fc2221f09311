#ifndef STRATA_CLI_COMMANDS_H_
#define STRATA_CLI_COMMANDS_H_

// Each strata subcommand registers itself on the top-level app. A command is thin: its
// callback parses docker's flags, calls the gateway core (cli/core), formats the result and
// sets *exit_code; errors print one line on stderr ("Error: <message>") and exit non-zero.

#include "CLI/CLI.hpp"
#include "cli/globals.h"

namespace strata::cli {

void RegisterVersionCommand(CLI::App& app, Globals& globals, int* exit_code);
void RegisterStatusCommand(CLI::App& app, Globals& globals, int* exit_code);
// images, tag, rmi
void RegisterImageCommands(CLI::App& app, Globals& globals, int* exit_code);
void RegisterHistoryCommand(CLI::App& app, Globals& globals, int* exit_code);
// run, create, start, exec
void RegisterContainerCommands(CLI::App& app, Globals& globals, int* exit_code);
// ps, stop, kill, pause, unpause, rm, wait, logs, diff
void RegisterLifecycleCommands(CLI::App& app, Globals& globals, int* exit_code);
// commit, export, cp, import
void RegisterTransferCommands(CLI::App& app, Globals& globals, int* exit_code);
// save, load.
void RegisterArchiveCommands(CLI::App& app, Globals& globals, int* exit_code);
void RegisterInspectCommand(CLI::App& app, Globals& globals, int* exit_code);
// system check
void RegisterSystemCommands(CLI::App& app, Globals& globals, int* exit_code);
// system df, system prune, image prune, container prune (prune_commands.cc).
void RegisterPruneCommands(CLI::App& app, Globals& globals, int* exit_code);
// pull, push, login, logout
void RegisterRegistryCommands(CLI::App& app, Globals& globals, int* exit_code);

}  // namespace strata::cli

#endif  // STRATA_CLI_COMMANDS_H_
