#include "services/runtime/core/monitor_client.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "lib/base/errors.h"
#include "lib/base/subprocess.h"

extern char** environ;

namespace strata::runtime {

absl::StatusOr<int> LaunchMonitor(const std::vector<std::string>& argv, absl::Duration timeout) {
  int ready[2];
  if (::pipe2(ready, O_CLOEXEC) != 0) return ErrnoStatus(errno, "pipe");
  UniqueFd ready_read(ready[0]), ready_write(ready[1]);
  std::vector<char*> args = CStringArray(argv);

  // Double fork: the monitor is reparented to init at once, so it never becomes a zombie of
  // ours and lives on when the service stops.
  pid_t child = ::fork();
  if (child < 0) return ErrnoStatus(errno, "fork");
  if (child == 0) {
    ::setsid();
    pid_t grandchild = ::fork();
    if (grandchild != 0) ::_exit(grandchild < 0 ? 1 : 0);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    int null_fd = ::open("/dev/null", O_RDWR);
    ::dup2(null_fd, STDIN_FILENO);
    ::dup2(null_fd, STDOUT_FILENO);
    ::dup2(null_fd, STDERR_FILENO);
    if (ready[1] == 3) {
      ::fcntl(3, F_SETFD, 0);
    } else {
      ::dup2(ready[1], 3);  // the copy does not inherit close-on-exec
    }
    ::execve(args[0], args.data(), environ);
    ::_exit(127);
  }
  ready_write.Reset();
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }

  std::string reply;
  const absl::Time deadline = absl::Now() + timeout;
  char buffer[4096];
  for (;;) {
    const int64_t remaining = absl::ToInt64Milliseconds(deadline - absl::Now());
    if (remaining <= 0) {
      return absl::DeadlineExceededError(
          absl::StrCat("the process monitor did not report within ", absl::FormatDuration(timeout)));
    }
    struct pollfd fd = {ready_read.get(), POLLIN, 0};
    if (::poll(&fd, 1, static_cast<int>(remaining)) <= 0) continue;
    ssize_t n = ::read(ready_read.get(), buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    reply.append(buffer, static_cast<size_t>(n));
    if (reply.find('\n') != std::string::npos) break;
  }
  absl::string_view line = absl::StripAsciiWhitespace(reply);
  int pid = 0;
  if (absl::ConsumePrefix(&line, "ok ") && absl::SimpleAtoi(line, &pid)) return pid;
  if (absl::ConsumePrefix(&line, "error ")) return absl::FailedPreconditionError(line);
  return absl::InternalError(
      absl::StrCat("the process monitor (", argv[0], ") failed to start",
                   reply.empty() ? "" : ": ", reply));
}

absl::StatusOr<std::unique_ptr<MonitorConnection>> MonitorConnection::Connect(
    const std::string& socket_path, bool wants_stdin, int64_t replay_offset) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return ErrnoStatus(errno, "socket");
  struct sockaddr_un address {};
  address.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof(address.sun_path)) {
    return absl::InvalidArgumentError("socket path too long: " + socket_path);
  }
  std::memcpy(address.sun_path, socket_path.c_str(), socket_path.size() + 1);
  if (::connect(fd.get(), reinterpret_cast<struct sockaddr*>(&address), sizeof(address)) != 0) {
    return absl::UnavailableError(
        absl::StrCat("no process monitor at ", socket_path, ": ", std::strerror(errno)));
  }
  RETURN_IF_ERROR(
      WriteFrame(fd.get(), FrameType::kHello, EncodeHello(wants_stdin, replay_offset)));
  return std::unique_ptr<MonitorConnection>(new MonitorConnection(std::move(fd)));
}

absl::Status MonitorConnection::SendStdin(absl::string_view data) {
  return WriteFrame(fd_.get(), FrameType::kStdin, data);
}

absl::Status MonitorConnection::CloseStdin() {
  return WriteFrame(fd_.get(), FrameType::kCloseStdin, "");
}

absl::Status MonitorConnection::Resize(uint16_t rows, uint16_t cols) {
  return WriteFrame(fd_.get(), FrameType::kResize, EncodeResize(rows, cols));
}

absl::StatusOr<std::optional<Frame>> MonitorConnection::Next() { return reader_.Next(); }

void MonitorConnection::Shutdown() { ::shutdown(fd_.get(), SHUT_RDWR); }

}  // namespace strata::runtime
