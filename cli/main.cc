// strata: the command-line gateway to the Strata services, in docker's vocabulary.

#include <csignal>
#include <cstdio>

#include "CLI/CLI.hpp"
#include "cli/commands.h"
#include "cli/globals.h"

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  CLI::App app{"strata: make container images from containers"};
  app.require_subcommand(1);
  app.fallthrough();
  strata::cli::Globals globals;
  strata::cli::AddGlobalFlags(app, globals);
  int exit_code = 0;
  strata::cli::RegisterVersionCommand(app, globals, &exit_code);
  strata::cli::RegisterStatusCommand(app, globals, &exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error);
  }
  return exit_code;
}
