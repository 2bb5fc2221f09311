#include "lib/base/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <grp.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "lib/base/errors.h"

extern char** environ;

namespace strata {

std::vector<char*> CStringArray(const std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  pointers.reserve(strings.size() + 1);
  for (const std::string& text : strings) pointers.push_back(const_cast<char*>(text.c_str()));
  pointers.push_back(nullptr);
  return pointers;
}

absl::StatusOr<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                         const CommandOptions& options) {
  if (argv.empty()) return absl::InvalidArgumentError("RunCommand: empty argv");
  int out_pipe[2], err_pipe[2] = {-1, -1}, in_pipe[2] = {-1, -1};
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) return ErrnoStatus(errno, "pipe");
  if (options.separate_stderr && ::pipe2(err_pipe, O_CLOEXEC) != 0) {
    return ErrnoStatus(errno, "pipe");
  }
  const bool feed_stdin = !options.stdin_data.empty();
  if (feed_stdin && ::pipe2(in_pipe, O_CLOEXEC) != 0) return ErrnoStatus(errno, "pipe");
  // A command that exits without reading all its input must not kill us with SIGPIPE.
  if (feed_stdin) ::signal(SIGPIPE, SIG_IGN);
  std::vector<char*> args = CStringArray(argv);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
  env_strings.insert(env_strings.end(), options.env.begin(), options.env.end());
  std::vector<char*> envp = CStringArray(env_strings);

  pid_t pid = ::fork();
  if (pid < 0) return ErrnoStatus(errno, "fork");
  if (pid == 0) {
    ::dup2(out_pipe[1], STDOUT_FILENO);
    ::dup2(options.separate_stderr ? err_pipe[1] : out_pipe[1], STDERR_FILENO);
    if (feed_stdin) {
      ::dup2(in_pipe[0], STDIN_FILENO);
    } else {
      int null_fd = ::open("/dev/null", O_RDONLY);
      ::dup2(null_fd, STDIN_FILENO);
    }
    if (options.gid >= 0) {
      ::setgroups(0, nullptr);
      if (::setgid(static_cast<gid_t>(options.gid)) != 0) ::_exit(126);
    }
    if (options.uid >= 0 && ::setuid(static_cast<uid_t>(options.uid)) != 0) ::_exit(126);
    ::execvpe(args[0], args.data(), envp.data());
    ::_exit(127);
  }
  ::close(out_pipe[1]);
  if (options.separate_stderr) ::close(err_pipe[1]);
  if (feed_stdin) ::close(in_pipe[0]);

  CommandResult result;
  struct pollfd fds[3] = {{out_pipe[0], POLLIN, 0},
                          {options.separate_stderr ? err_pipe[0] : -1, POLLIN, 0},
                          {feed_stdin ? in_pipe[1] : -1, POLLOUT, 0}};
  size_t fed = 0;
  char buffer[65536];
  while (fds[0].fd >= 0 || fds[1].fd >= 0) {
    if (::poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = ::read(fds[i].fd, buffer, sizeof(buffer));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        continue;
      }
      (i == 0 ? result.output : result.error_output).append(buffer, static_cast<size_t>(n));
    }
    if (fds[2].fd >= 0 && (fds[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
      ssize_t n = ::write(fds[2].fd, options.stdin_data.data() + fed,
                          options.stdin_data.size() - fed);
      if (n > 0) fed += static_cast<size_t>(n);
      if (n < 0 && errno != EINTR && errno != EAGAIN) fed = options.stdin_data.size();
      if (fed == options.stdin_data.size()) {
        ::close(fds[2].fd);
        fds[2].fd = -1;
      }
    }
  }
  if (fds[2].fd >= 0) ::close(fds[2].fd);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

absl::Status RunCommandOk(const std::vector<std::string>& argv,
                          const CommandOptions& options) {
  ASSIGN_OR_RETURN(CommandResult result, RunCommand(argv, options));
  if (result.exit_code != 0) {
    return absl::InternalError(absl::StrCat(absl::StrJoin(argv, " "), " exited with ",
                                            result.exit_code, ": ", result.output));
  }
  return absl::OkStatus();
}

}  // namespace strata
