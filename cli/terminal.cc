#include "cli/terminal.h"

#include <sys/ioctl.h>
#include <unistd.h>

namespace strata::cli {

bool IsTerminal(int fd) { return ::isatty(fd) == 1; }

WindowSize TerminalSize(int fd) {
  struct winsize size {};
  if (::ioctl(fd, TIOCGWINSZ, &size) != 0) return {};
  return {size.ws_row, size.ws_col};
}

RawMode::RawMode(int fd) : fd_(fd) {
  if (!IsTerminal(fd) || ::tcgetattr(fd, &saved_) != 0) return;
  struct termios raw = saved_;
  ::cfmakeraw(&raw);
  if (::tcsetattr(fd, TCSADRAIN, &raw) == 0) active_ = true;
}

RawMode::~RawMode() {
  if (active_) ::tcsetattr(fd_, TCSADRAIN, &saved_);
}

}  // namespace strata::cli
