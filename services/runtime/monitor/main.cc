// strata-runtime-monitor: supervises one container process (see monitor.h). Started by
// strata-runtime, never by hand.

#include <cstdio>

#include "CLI/CLI.hpp"
#include "services/runtime/monitor/monitor.h"

int main(int argc, char** argv) {
  CLI::App app{"strata-runtime-monitor: supervises one container process for strata-runtime"};
  strata::runtime::MonitorOptions options;
  app.add_option("--id", options.id)->required();
  app.add_option("--mode", options.mode)->check(CLI::IsMember({"create", "exec"}));
  app.add_option("--bundle", options.bundle);
  app.add_option("--process", options.process_file);
  app.add_option("--runc", options.runc);
  app.add_option("--runc-root", options.runc_root)->required();
  app.add_option("--socket", options.socket_path)->required();
  app.add_option("--log", options.log_path);
  app.add_option("--exit-file", options.exit_path);
  app.add_flag("--tty", options.tty);
  app.add_flag("--stdin", options.stdin_open);
  app.add_option("--ready-fd", options.ready_fd);
  app.add_option("--diagnostics", options.diagnostics_path);
  CLI11_PARSE(app, argc, argv);
  if (!options.diagnostics_path.empty()) {
    std::freopen(options.diagnostics_path.c_str(), "a", stderr);
  }
  return strata::runtime::RunMonitor(options);
}
