#include "cli/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "cli/format.h"
#include "cli/terminal.h"

namespace strata::cli {

TerminalProgress::TerminalProgress() : enabled_(IsTerminal(STDERR_FILENO)) {}

TerminalProgress::~TerminalProgress() {
  absl::MutexLock lock(&mu_);
  EndLine();
}

void TerminalProgress::OnProgress(const gateway::v1::Progress& progress) {
  if (!enabled_) return;
  absl::MutexLock lock(&mu_);
  if (progress.action() != action_) {
    EndLine();
    action_ = progress.action();
    started_ = absl::Now();
    last_draw_ = absl::InfinitePast();
  }
  current_ = progress.current();
  total_ = progress.total();
  // A wait reports elapsed milliseconds without a total; bytes come with one, or grow fast.
  bytes_ = progress.action() != "Committing";
  Draw(false);
}

void TerminalProgress::Add(const std::string& action, int64_t bytes) {
  if (!enabled_) return;
  absl::MutexLock lock(&mu_);
  if (action != action_) {
    EndLine();
    action_ = action;
    current_ = 0;
    total_ = 0;
    bytes_ = true;
    started_ = absl::Now();
    last_draw_ = absl::InfinitePast();
  }
  current_ += bytes;
  Draw(false);
}

void TerminalProgress::Done() {
  if (!enabled_) return;
  absl::MutexLock lock(&mu_);
  if (!line_open_) return;
  Draw(true);
  EndLine();
}

void TerminalProgress::EndLine() {
  if (line_open_) std::fputs("\n", stderr);
  line_open_ = false;
  action_.clear();
}

void TerminalProgress::Draw(bool force) {
  const absl::Time now = absl::Now();
  if (!force && now - last_draw_ < absl::Milliseconds(100)) return;
  last_draw_ = now;
  line_open_ = true;
  const double seconds = std::max(absl::ToDoubleSeconds(now - started_), 0.001);
  std::string line = absl::StrFormat("%-10s ", action_);
  if (bytes_ && total_ > 0) {
    constexpr int kWidth = 30;
    const int filled = static_cast<int>(
        kWidth * std::min<double>(1.0, static_cast<double>(current_) / static_cast<double>(total_)));
    line += "[" + std::string(filled, '=') + (filled < kWidth ? ">" : "") +
            std::string(std::max(0, kWidth - filled - 1), ' ') + "] ";
    absl::StrAppend(&line, HumanSize(current_), "/", HumanSize(total_));
  } else if (bytes_ && current_ > 0) {
    absl::StrAppend(&line, HumanSize(current_));
  }
  if (bytes_ && current_ > 0) {
    absl::StrAppend(&line, " (", HumanSize(static_cast<int64_t>(current_ / seconds)), "/s)");
  }
  absl::StrAppend(&line, absl::StrFormat(" %.0fs", seconds));
  std::fprintf(stderr, "\r\033[K%s", line.c_str());
  std::fflush(stderr);
}

}  // namespace strata::cli
