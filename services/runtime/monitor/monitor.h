#ifndef STRATA_SERVICES_RUNTIME_MONITOR_MONITOR_H_
#define STRATA_SERVICES_RUNTIME_MONITOR_MONITOR_H_

// The process monitor: one small process per running container process (the main one, or
// one started by Exec), like containerd's shim or podman's conmon. It runs the process
// through runc, becomes its parent (child subreaper), holds its terminal or pipes, appends
// its output to the log, serves attach clients on a unix socket (frames.h), and when the
// process ends writes the exit status to a file. It lives in its own session, so the runtime
// service can restart without touching running containers.

#include <string>

namespace strata::runtime {

struct MonitorOptions {
  // runc's name for the container.
  std::string id;
  // "create": the container's main process (runc create + start, runc delete at the end);
  // "exec": another process in a running container (runc exec --detach).
  std::string mode = "create";
  // create: the OCI bundle directory. exec: the process.json file.
  std::string bundle;
  std::string process_file;
  std::string runc = "runc";
  std::string runc_root;
  // Unix socket clients attach to (kept short: sun_path holds 107 bytes).
  std::string socket_path;
  // Output frames are appended here.
  std::string log_path;
  // {"exit_code": N, "finished": "<RFC 3339>"} is written here when the process ends.
  std::string exit_path;
  bool tty = false;
  bool stdin_open = false;
  // The monitor's own diagnostics go here (else nowhere: it has no terminal).
  std::string diagnostics_path;
  // The monitor reports "ok <pid>\n" or "error <message>\n" here once the process runs (or
  // failed to), then closes it.
  int ready_fd = 3;
};

// Runs the monitor to the end; returns the process exit code for the monitor itself.
int RunMonitor(const MonitorOptions& options);

}  // namespace strata::runtime

#endif  // STRATA_SERVICES_RUNTIME_MONITOR_MONITOR_H_
