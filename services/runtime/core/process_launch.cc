#include "services/runtime/core/process_launch.h"

#include "lib/base/errors.h"
#include "lib/layer/safe_fs.h"
#include "services/runtime/core/run_spec.h"

namespace strata::runtime {

absl::StatusOr<ProcessSpec> BuildProcessSpec(int rootfs_fd, const ProcessRequest& request) {
  ProcessSpec process;
  process.args = request.args;
  process.env = request.env;
  for (const std::string& entry : request.env_overrides) {
    const size_t equals = entry.find('=');
    SetEnv(process.env, entry.substr(0, equals),
           equals == std::string::npos ? "" : entry.substr(equals + 1));
  }
  process.terminal = request.terminal;
  process.rows = request.rows;
  process.cols = request.cols;
  process.cwd = request.working_dir.empty() ? "/" : request.working_dir;
  ASSIGN_OR_RETURN(process.user, ResolveUser(rootfs_fd, request.user));
  if (!GetEnv(process.env, "PATH")) SetEnv(process.env, "PATH", kDefaultPath);
  SetEnv(process.env, "HOSTNAME", request.hostname);
  if (!GetEnv(process.env, "HOME")) SetEnv(process.env, "HOME", process.user.home);
  if (request.terminal && !GetEnv(process.env, "TERM")) SetEnv(process.env, "TERM", "xterm");
  if (request.create_working_dir && process.cwd != "/") {
    absl::StatusOr<std::string> cwd = layer::CleanPath(process.cwd);
    if (cwd.ok()) (void)layer::MakeDirsInRoot(rootfs_fd, *cwd);
  }
  RETURN_IF_ERROR(
      CheckExecutable(rootfs_fd, process.args[0], *GetEnv(process.env, "PATH"), process.cwd));
  return process;
}

std::vector<std::string> MonitorArgv(const MonitorCommand& command) {
  std::vector<std::string> argv = {command.monitor,
                                   "--id=" + command.id,
                                   "--mode=" + command.mode,
                                   "--runc=" + command.runc,
                                   "--runc-root=" + command.runc_root,
                                   "--socket=" + command.paths.socket,
                                   "--log=" + command.paths.log,
                                   "--exit-file=" + command.paths.exit_file,
                                   "--diagnostics=" + command.paths.monitor_log,
                                   "--ready-fd=3"};
  if (command.mode == "create") {
    argv.push_back("--bundle=" + command.bundle);
  } else {
    argv.push_back("--process=" + command.paths.process_file);
  }
  if (command.tty) argv.push_back("--tty");
  if (command.open_stdin) argv.push_back("--stdin");
  return argv;
}

}  // namespace strata::runtime
