#include "cli/terminal.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <atomic>

namespace strata::cli {

bool IsTerminal(int fd) { return ::isatty(fd) == 1; }

WindowSize TerminalSize(int fd) {
  struct winsize size {};
  if (::ioctl(fd, TIOCGWINSZ, &size) != 0) return {};
  return {size.ws_row, size.ws_col};
}

namespace {

// The terminal settings to restore if strata ends without unwinding (a signal).
std::atomic<bool> saved_valid{false};
int saved_fd = -1;
struct termios saved_settings {};

}  // namespace

RawMode::RawMode(int fd) : fd_(fd) {
  if (!IsTerminal(fd) || ::tcgetattr(fd, &saved_) != 0) return;
  struct termios raw = saved_;
  ::cfmakeraw(&raw);
  saved_fd = fd;
  saved_settings = saved_;
  saved_valid = true;
  if (::tcsetattr(fd, TCSADRAIN, &raw) == 0) active_ = true;
}

RawMode::~RawMode() {
  if (active_) ::tcsetattr(fd_, TCSADRAIN, &saved_);
  saved_valid = false;
}

void RawMode::RestoreAll() {
  if (saved_valid.exchange(false)) ::tcsetattr(saved_fd, TCSADRAIN, &saved_settings);
}

}  // namespace strata::cli
