#ifndef STRATA_CLI_PROGRESS_H_
#define STRATA_CLI_PROGRESS_H_

// A progress line for long transfers (import, export, commit) on stderr, only when stderr is a
// terminal: nothing on a pipe, so scripts and logs stay clean.

#include <cstdint>
#include <string>

#include "absl/time/time.h"

namespace strata::cli {

class Progress {
 public:
  // total: bytes expected, 0 when unknown.
  Progress(std::string action, int64_t total = 0);
  ~Progress();

  void Add(int64_t bytes);
  // Redraws (at most ten times a second) even without new bytes: for waits of unknown length.
  void Tick();
  // Draws the final state and ends the line.
  void Done();

 private:
  void Draw(bool force);

  const std::string action_;
  const int64_t total_;
  const bool enabled_;
  const absl::Time started_;
  absl::Time last_draw_;
  int64_t done_ = 0;
  bool finished_ = false;
};

}  // namespace strata::cli

#endif  // STRATA_CLI_PROGRESS_H_
