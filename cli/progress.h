#ifndef STRATA_CLI_PROGRESS_H_
#define STRATA_CLI_PROGRESS_H_

// Progress lines for long workflows (import, export, commit) on stderr, only when stderr is
// a terminal: nothing on a pipe, so scripts and logs stay clean. TerminalProgress draws what
// the gateway core reports; one line per action, redrawn at most ten times a second.

#include <cstdint>
#include <string>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "cli/core/progress.h"

namespace strata::cli {

class TerminalProgress : public gateway::ProgressObserver {
 public:
  TerminalProgress();
  // Ends the last line.
  ~TerminalProgress() override;

  void OnProgress(const gateway::v1::Progress& progress) override;
  // For byte counts the CLI sees itself (export): adds to the current action's count.
  void Add(const std::string& action, int64_t bytes);
  // Draws the final state of the current line and ends it.
  void Done();

 private:
  void Draw(bool force) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void EndLine() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const bool enabled_;
  absl::Mutex mu_;
  std::string action_ ABSL_GUARDED_BY(mu_);
  int64_t current_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t total_ ABSL_GUARDED_BY(mu_) = 0;
  // Whether current_ counts bytes (for the rate), or is a time in milliseconds (a wait).
  bool bytes_ ABSL_GUARDED_BY(mu_) = true;
  absl::Time started_ ABSL_GUARDED_BY(mu_);
  absl::Time last_draw_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  bool line_open_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace strata::cli

#endif  // STRATA_CLI_PROGRESS_H_
