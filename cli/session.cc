#include "cli/session.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <optional>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "cli/terminal.h"
#include "lib/base/fs.h"
#include "lib/rpc/status.h"

namespace strata::cli {

void BlockWindowChangeSignal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGWINCH);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

template <typename Request>
absl::StatusOr<int> RunSession(
    grpc::ClientReaderWriter<Request, runtime::v1::ProcessOutput>* stream,
    const SessionOptions& options) {
  absl::Mutex write_mu;
  auto send = [&](const Request& request) {
    absl::MutexLock lock(&write_mu);
    return stream->Write(request);
  };
  std::optional<RawMode> raw;
  if (options.tty && options.stdin) raw.emplace(STDIN_FILENO);

  int wake[2];
  if (::pipe2(wake, O_CLOEXEC) != 0) return absl::InternalError("pipe");
  UniqueFd wake_read(wake[0]), wake_write(wake[1]);
  std::atomic<bool> stopping{false};

  std::thread resizer;
  if (options.tty) {
    const int terminal = IsTerminal(STDIN_FILENO) ? STDIN_FILENO : STDOUT_FILENO;
    auto send_size = [&, terminal] {
      WindowSize size = TerminalSize(terminal);
      if (size.rows == 0) return;
      Request request;
      request.mutable_resize()->set_rows(size.rows);
      request.mutable_resize()->set_cols(size.cols);
      send(request);
    };
    send_size();
    resizer = std::thread([&, send_size] {
      sigset_t set;
      sigemptyset(&set);
      sigaddset(&set, SIGWINCH);
      const struct timespec timeout = {0, 200 * 1000 * 1000};
      while (!stopping) {
        if (::sigtimedwait(&set, nullptr, &timeout) == SIGWINCH) send_size();
      }
    });
  }

  std::thread input;
  if (options.stdin) {
    input = std::thread([&] {
      char buffer[32 << 10];
      struct pollfd fds[2] = {{STDIN_FILENO, POLLIN, 0}, {wake_read.get(), POLLIN, 0}};
      for (;;) {
        if (::poll(fds, 2, -1) < 0) {
          if (errno == EINTR) continue;
          break;
        }
        if (fds[1].revents) break;
        ssize_t n = ::read(STDIN_FILENO, buffer, sizeof(buffer));
        if (n < 0 && errno == EINTR) continue;
        Request request;
        if (n <= 0) {
          request.set_close_stdin(true);
          send(request);
          break;
        }
        request.set_stdin(std::string(buffer, static_cast<size_t>(n)));
        if (!send(request)) break;
      }
    });
  }

  std::optional<int> exit_code;
  runtime::v1::ProcessOutput output;
  while (stream->Read(&output)) {
    if (output.has_exit()) {
      exit_code = output.exit().exit_code();
      break;
    }
    const std::string& data = output.has_stdout() ? output.stdout() : output.stderr();
    (void)WriteAll(output.has_stdout() ? STDOUT_FILENO : STDERR_FILENO, data);
  }

  stopping = true;
  (void)WriteAll(wake_write.get(), "x");
  if (input.joinable()) input.join();
  if (resizer.joinable()) resizer.join();
  {
    absl::MutexLock lock(&write_mu);
    stream->WritesDone();
  }
  while (stream->Read(&output)) {
  }
  grpc::Status status = stream->Finish();
  raw.reset();
  if (exit_code) return *exit_code;
  if (!status.ok()) return rpc::FromGrpc(status);
  return absl::UnavailableError("the process stream ended without an exit status");
}

template absl::StatusOr<int> RunSession<runtime::v1::AttachRequest>(
    grpc::ClientReaderWriter<runtime::v1::AttachRequest, runtime::v1::ProcessOutput>*,
    const SessionOptions&);
template absl::StatusOr<int> RunSession<runtime::v1::ExecRequest>(
    grpc::ClientReaderWriter<runtime::v1::ExecRequest, runtime::v1::ProcessOutput>*,
    const SessionOptions&);

}  // namespace strata::cli
