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

Progress::Progress(std::string action, int64_t total)
    : action_(std::move(action)),
      total_(total),
      enabled_(IsTerminal(STDERR_FILENO)),
      started_(absl::Now()),
      last_draw_(absl::InfinitePast()) {}

Progress::~Progress() {
  if (!finished_ && enabled_ && last_draw_ != absl::InfinitePast()) std::fputs("\n", stderr);
}

void Progress::Add(int64_t bytes) {
  done_ += bytes;
  Draw(false);
}

void Progress::Tick() { Draw(false); }

void Progress::Done() {
  Draw(true);
  if (enabled_) std::fputs("\n", stderr);
  finished_ = true;
}

void Progress::Draw(bool force) {
  if (!enabled_) return;
  const absl::Time now = absl::Now();
  if (!force && now - last_draw_ < absl::Milliseconds(100)) return;
  last_draw_ = now;
  const double seconds = std::max(absl::ToDoubleSeconds(now - started_), 0.001);
  std::string line = absl::StrFormat("%-10s ", action_);
  if (total_ > 0) {
    constexpr int kWidth = 30;
    const int filled =
        static_cast<int>(kWidth * std::min<double>(1.0, static_cast<double>(done_) / total_));
    line += "[" + std::string(filled, '=') + (filled < kWidth ? ">" : "") +
            std::string(std::max(0, kWidth - filled - 1), ' ') + "] ";
    absl::StrAppend(&line, HumanSize(done_), "/", HumanSize(total_));
  } else if (done_ > 0) {
    absl::StrAppend(&line, HumanSize(done_));
  }
  if (done_ > 0) {
    absl::StrAppend(&line, " (", HumanSize(static_cast<int64_t>(done_ / seconds)), "/s)");
  }
  absl::StrAppend(&line, absl::StrFormat(" %.0fs", seconds));
  std::fprintf(stderr, "\r\033[K%s", line.c_str());
  std::fflush(stderr);
}

}  // namespace strata::cli
