// strata: the command-line gateway to the Strata services, in docker's vocabulary.

#include <csignal>
#include <cstdio>
#include <clocale>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "lib/base/malloc_tuning.h"
#include "cli/commands.h"
#include "cli/globals.h"
#include "cli/session.h"
#include "cli/util.h"

namespace {

// docker spells boolean flags with values (-H=false, --pause=false); CLI11 flags take none.
// Rewrites those spellings into plain flags before parsing.
std::vector<std::string> NormalizeBooleanFlags(int argc, char** argv) {
  struct BooleanFlag {
    const char* short_name;
    const char* long_name;
    const char* off;
  };
  static const BooleanFlag kFlags[] = {{"-H", "--human", "--human-off"},
                                       {"-p", "--pause", "--pause-off"}};
  std::vector<std::string> args(argv, argv + argc);
  // `--entrypoint=` / `--entrypoint ""` clear the entrypoint; CLI11 would take the next word.
  for (size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--entrypoint=" ||
        (args[i] == "--entrypoint" && i + 1 < args.size() && args[i + 1].empty())) {
      if (args[i] == "--entrypoint") args.erase(args.begin() + static_cast<long>(i) + 1);
      args[i] = "--clear-entrypoint";
    }
  }
  for (std::string& arg : args) {
    for (const BooleanFlag& flag : kFlags) {
      for (const char* name : {flag.short_name, flag.long_name}) {
        const std::string prefix = std::string(name) + "=";
        if (arg.rfind(prefix, 0) != 0) continue;
        const std::string value = arg.substr(prefix.size());
        if (value == "false" || value == "0") arg = flag.off;
        if (value == "true" || value == "1") arg = flag.long_name;
      }
    }
  }
  return args;
}

}  // namespace

int main(int argc, char** argv) {
  // import, export and cp stream layers in ~1 MiB buffers.
  strata::TuneMallocForStreaming();
  // File names in layers are UTF-8: let libarchive convert them (the default "C" cannot).
  std::setlocale(LC_CTYPE, "C.UTF-8");
  std::signal(SIGPIPE, SIG_IGN);
  strata::cli::StartSignalHandling();
  CLI::App app{"strata: make container images from containers"};
  app.require_subcommand(1);
  strata::cli::Globals globals;
  strata::cli::AddGlobalFlags(app, globals);
  int exit_code = 0;
  strata::cli::RegisterVersionCommand(app, globals, &exit_code);
  strata::cli::RegisterStatusCommand(app, globals, &exit_code);
  strata::cli::RegisterImageCommands(app, globals, &exit_code);
  strata::cli::RegisterHistoryCommand(app, globals, &exit_code);
  strata::cli::RegisterContainerCommands(app, globals, &exit_code);
  strata::cli::RegisterLifecycleCommands(app, globals, &exit_code);
  strata::cli::RegisterTransferCommands(app, globals, &exit_code);
  strata::cli::RegisterArchiveCommands(app, globals, &exit_code);
  strata::cli::RegisterInspectCommand(app, globals, &exit_code);
  strata::cli::RegisterSystemCommands(app, globals, &exit_code);
  strata::cli::RegisterPruneCommands(app, globals, &exit_code);
  strata::cli::RegisterRegistryCommands(app, globals, &exit_code);

  std::vector<std::string> args = NormalizeBooleanFlags(argc, argv);
  std::vector<char*> normalized;
  for (std::string& arg : args) normalized.push_back(arg.data());
  try {
    app.parse(static_cast<int>(normalized.size()), normalized.data());
  } catch (const CLI::CallForHelp& help) {
    return app.exit(help);
  } catch (const CLI::CallForAllHelp& help) {
    return app.exit(help);
  } catch (const CLI::ParseError& error) {
    app.exit(error);
    return strata::cli::kExitServiceError;
  }
  return exit_code;
}
