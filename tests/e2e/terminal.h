#ifndef STRATA_TESTS_E2E_TERMINAL_H_
#define STRATA_TESTS_E2E_TERMINAL_H_

// A program run on a pseudo-terminal of its own, as a user at a terminal runs it: type keys,
// wait for text on the screen, resize, wait for the exit code.

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace strata::e2e {

class Terminal {
 public:
  Terminal(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
    struct winsize size {};
    size.ws_row = 30;
    size.ws_col = 100;
    pid_ = ::forkpty(&master_, nullptr, nullptr, &size);
    if (pid_ == 0) {
      for (const std::string& entry : env) ::putenv(const_cast<char*>(entry.c_str()));
      std::vector<char*> args;
      for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
  }
  ~Terminal() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    ::close(master_);
  }

  void Type(const std::string& keys) {
    ASSERT_EQ(::write(master_, keys.data(), keys.size()), static_cast<ssize_t>(keys.size()));
  }

  // Reads what the terminal shows until `text` appears (or 20 s pass).
  bool WaitFor(const std::string& text) {
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    while (absl::Now() < deadline) {
      if (screen_.find(text, consumed_) != std::string::npos) {
        consumed_ = screen_.find(text, consumed_) + text.size();
        return true;
      }
      struct pollfd fd = {master_, POLLIN, 0};
      if (::poll(&fd, 1, 100) <= 0) continue;
      char buffer[4096];
      ssize_t n = ::read(master_, buffer, sizeof(buffer));
      if (n <= 0) return false;
      screen_.append(buffer, static_cast<size_t>(n));
    }
    return false;
  }

  void Resize(int rows, int cols) {
    struct winsize size {};
    size.ws_row = rows;
    size.ws_col = cols;
    ::ioctl(master_, TIOCSWINSZ, &size);  // the kernel sends SIGWINCH to strata
  }

  int Wait() {
    int status = 0;
    // Drain output so strata never blocks writing to us.
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    while (::waitpid(pid_, &status, WNOHANG) == 0 && absl::Now() < deadline) {
      WaitFor("\x01never\x01");
    }
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  const std::string& screen() const { return screen_; }

 private:
  int master_ = -1;
  pid_t pid_ = -1;
  std::string screen_;
  size_t consumed_ = 0;
};

}  // namespace strata::e2e

#endif  // STRATA_TESTS_E2E_TERMINAL_H_
