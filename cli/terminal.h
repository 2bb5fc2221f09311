#ifndef STRATA_CLI_TERMINAL_H_
#define STRATA_CLI_TERMINAL_H_

// The user's terminal: whether a descriptor is one, its size, and raw mode for interactive
// sessions (restored however the session ends).

#include <termios.h>

#include <cstdint>

namespace strata::cli {

bool IsTerminal(int fd);

struct WindowSize {
  uint16_t rows = 0;
  uint16_t cols = 0;
};

// The size of the terminal at fd; zeros when it is not a terminal.
WindowSize TerminalSize(int fd);

// Puts a terminal in raw mode (no echo, no line editing, no signals from keys: Ctrl-C goes to
// the container) for its lifetime.
class RawMode {
 public:
  explicit RawMode(int fd);
  ~RawMode();
  // Restores every terminal a RawMode changed: for exits that skip destructors.
  static void RestoreAll();
  RawMode(const RawMode&) = delete;
  RawMode& operator=(const RawMode&) = delete;

 private:
  int fd_;
  bool active_ = false;
  struct termios saved_ {};
};

}  // namespace strata::cli

#endif  // STRATA_CLI_TERMINAL_H_
