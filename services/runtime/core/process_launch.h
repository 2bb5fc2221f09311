#ifndef STRATA_SERVICES_RUNTIME_CORE_PROCESS_LAUNCH_H_
#define STRATA_SERVICES_RUNTIME_CORE_PROCESS_LAUNCH_H_

// How a container's processes are started, the main one (Start) and every exec alike: the
// OCI process they run with (docker's rules for env, user, working directory, PATH, HOME,
// HOSTNAME and TERM) and the monitor command line that runs it.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/runtime/core/node_layout.h"
#include "services/runtime/core/oci_spec.h"

namespace strata::runtime {

// What is asked of a process before it is resolved against the container's root.
struct ProcessRequest {
  std::vector<std::string> args;
  // The container's environment, then "K=V" overrides (exec -e) on top.
  std::vector<std::string> env;
  std::vector<std::string> env_overrides;
  // "" for "/".
  std::string working_dir;
  // docker's user forms (name, uid, uid:gid, name:group); "" for root.
  std::string user;
  std::string hostname;
  bool terminal = false;
  uint16_t rows = 0;
  uint16_t cols = 0;
  // The main process: docker creates a missing working directory.
  bool create_working_dir = false;
};

// Resolves a request in the container's root (an O_PATH descriptor of it): the user from its
// /etc/passwd and /etc/group, the environment's defaults, the program on its PATH.
// Errors: NOT_FOUND / INVALID_ARGUMENT for an unknown user or a program that cannot be run
// (with docker's wording, from ResolveUser and CheckExecutable).
absl::StatusOr<ProcessSpec> BuildProcessSpec(int rootfs_fd, const ProcessRequest& request);

// The monitor and runc to run a process with.
struct MonitorCommand {
  std::string monitor;
  std::string runc;
  std::string runc_root;
  // runc's name for the container.
  std::string id;
  // "create" (the main process, from `bundle`) or "exec" (from paths.process_file).
  std::string mode;
  std::string bundle;
  ProcessPaths paths;
  bool tty = false;
  bool open_stdin = false;
};

// The monitor's command line (services/runtime/monitor/main.cc), ready fd 3 included.
std::vector<std::string> MonitorArgv(const MonitorCommand& command);

}  // namespace strata::runtime

#endif  // STRATA_SERVICES_RUNTIME_CORE_PROCESS_LAUNCH_H_
