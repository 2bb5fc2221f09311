#include "cli/session.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <optional>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "cli/terminal.h"
#include "lib/base/fs.h"

namespace strata::cli {
namespace {

absl::Mutex handler_mu;
std::function<void(int)>* signal_handler ABSL_GUARDED_BY(handler_mu) = nullptr;

sigset_t HandledSignals() {
  sigset_t set;
  sigemptyset(&set);
  for (int signal : {SIGINT, SIGTERM, SIGHUP, SIGWINCH}) sigaddset(&set, signal);
  return set;
}

// Sets (or clears) the handler for the session running now.
class ScopedSignalHandler {
 public:
  explicit ScopedSignalHandler(std::function<void(int)> handler) : handler_(std::move(handler)) {
    absl::MutexLock lock(&handler_mu);
    signal_handler = &handler_;
  }
  ~ScopedSignalHandler() {
    absl::MutexLock lock(&handler_mu);
    signal_handler = nullptr;
  }

 private:
  std::function<void(int)> handler_;
};

}  // namespace

absl::StatusOr<std::string> ParseDetachKeys(const std::string& keys) {
  std::string bytes;
  auto invalid = [&keys]() {
    return absl::InvalidArgumentError("Invalid detach keys (" + keys + ") provided");
  };
  if (keys.empty()) return invalid();
  size_t start = 0;
  while (start <= keys.size()) {
    size_t comma = keys.find(',', start);
    if (comma == std::string::npos) comma = keys.size();
    const std::string key = keys.substr(start, comma - start);
    start = comma + 1;
    if (key.size() == 1) {
      bytes.push_back(key[0]);
    } else if (key.size() == 6 && key.compare(0, 5, "ctrl-") == 0) {
      const char c = key[5];
      if (c >= 'a' && c <= 'z') {
        bytes.push_back(static_cast<char>(c - 'a' + 1));
      } else if (c == '@' || c == '[' || c == '\\' || c == ']' || c == '^' || c == '_') {
        bytes.push_back(static_cast<char>(c - '@'));
      } else {
        return invalid();
      }
    } else {
      return invalid();
    }
    if (comma == keys.size()) break;
  }
  return bytes;
}

void StartSignalHandling() {
  sigset_t set = HandledSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread([set] {
    for (;;) {
      int signal = 0;
      if (sigwait(&set, &signal) != 0) continue;
      {
        absl::MutexLock lock(&handler_mu);
        if (signal_handler != nullptr) {
          (*signal_handler)(signal);
          continue;
        }
      }
      if (signal == SIGWINCH) continue;
      RawMode::RestoreAll();
      ::_exit(128 + signal);
    }
  }).detach();
}

absl::StatusOr<int> RunSession(gateway::ProcessSession* session, const SessionOptions& options) {
  std::optional<RawMode> raw;
  if (options.tty && options.stdin) raw.emplace(STDIN_FILENO);

  int wake[2];
  if (::pipe2(wake, O_CLOEXEC) != 0) return absl::InternalError("pipe");
  UniqueFd wake_read(wake[0]), wake_write(wake[1]);

  const int terminal = IsTerminal(STDIN_FILENO) ? STDIN_FILENO : STDOUT_FILENO;
  auto send_size = [session, terminal] {
    WindowSize size = TerminalSize(terminal);
    if (size.rows == 0) return;
    (void)session->Resize(size.rows, size.cols);
  };
  if (options.tty) send_size();
  ScopedSignalHandler handler([&](int signal) {
    if (signal == SIGWINCH) {
      if (options.tty) send_size();
      return;
    }
    if (options.forward_signal) {
      options.forward_signal(signal);
      return;
    }
    RawMode::RestoreAll();
    ::_exit(128 + signal);
  });

  // Detaching is the input thread's finding; the output loop then ends without an exit.
  std::atomic<bool> detached{false};
  const std::string detach_keys = options.tty ? options.detach_keys : "";
  std::thread input;
  if (options.stdin) {
    input = std::thread([&] {
      // How much of the detach sequence the last bytes matched (held back until it is clear
      // they are not the sequence, as docker's escape proxy does).
      size_t matched = 0;
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
        if (n <= 0) {
          (void)session->CloseStdin();
          break;
        }
        if (detach_keys.empty()) {
          if (!session->SendStdin(absl::string_view(buffer, static_cast<size_t>(n))).ok()) break;
          continue;
        }
        std::string out;
        for (ssize_t i = 0; i < n && !detached; ++i) {
          const char c = buffer[i];
          if (c == detach_keys[matched]) {
            if (++matched == detach_keys.size()) detached = true;
            continue;
          }
          out.append(detach_keys, 0, matched);
          matched = c == detach_keys[0] ? 1 : 0;
          if (matched == 0) out.push_back(c);
        }
        if (!out.empty() && !session->SendStdin(out).ok()) break;
        if (detached) {
          session->Cancel();
          break;
        }
      }
    });
  }

  std::optional<int> exit_code;
  bool output_closed = false;
  absl::Status ended;
  for (;;) {
    absl::StatusOr<std::optional<runtime::v1::ProcessOutput>> output = session->Next();
    if (!output.ok()) {
      ended = output.status();
      break;
    }
    if (detached) break;
    if (!output->has_value()) break;
    const runtime::v1::ProcessOutput& message = **output;
    if (message.has_exit()) {
      exit_code = message.exit().exit_code();
      break;
    }
    const std::string& data = message.has_stdout() ? message.stdout() : message.stderr();
    if (!WriteAll(message.has_stdout() ? STDOUT_FILENO : STDERR_FILENO, data).ok()) {
      // Our reader went away (`strata run ... | head`): stop instead of reading forever.
      output_closed = true;
      session->Cancel();
      break;
    }
  }

  (void)WriteAll(wake_write.get(), "x");
  if (input.joinable()) input.join();
  raw.reset();
  if (detached && !exit_code) {
    // docker's words; the process runs on.
    (void)WriteAll(STDERR_FILENO, "read escape sequence\n");
    return 0;
  }
  if (exit_code) return *exit_code;
  if (output_closed) return kExitOutputClosed;
  if (!ended.ok()) return ended;
  return absl::UnavailableError("the process stream ended without an exit status");
}

}  // namespace strata::cli
