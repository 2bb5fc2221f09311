#ifndef STRATA_CLI_FORMAT_H_
#define STRATA_CLI_FORMAT_H_

// Output the way docker prints it: sizes in decimal units with three significant digits,
// durations in words, truncation with an ellipsis, and tab-aligned tables.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace strata::cli {

// 0B, 512B, 4.86MB, 110MB, 1.23GB (units of 1000, as docker's units.HumanSize).
std::string HumanSize(int64_t bytes);

// "Less than a second", "5 seconds", "About a minute", "3 hours", "2 weeks", ...
std::string HumanDuration(absl::Duration duration);

// "<HumanDuration> ago", or "N/A" for an unknown time.
std::string TimeAgo(absl::Time time, absl::Time now = absl::Now());

// Cuts text to at most max characters (UTF-8 aware), ending with "…" when cut.
std::string Ellipsis(const std::string& text, size_t max);

// "sha256:3f5a..." -> "3f5a2b1c9d8e".
std::string ShortId(const std::string& id);

// Columns separated by at least 3 spaces, each as wide as its widest cell (like docker's
// tabwriter). The last column is not padded.
class Table {
 public:
  explicit Table(std::vector<std::string> header) { rows_.push_back(std::move(header)); }
  void Add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  // Without the header (docker's -q style callers just don't use Table).
  std::string Render() const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

// docker's tabwriter as its list commands set it up (minwidth, padding 3, no flags): every
// cell but a row's last is padded to its column's width, which is at least min_width and 3
// more than the column's widest cell, in UTF-8 characters. Each row ends with "\n".
std::string AlignColumns(const std::vector<std::vector<std::string>>& rows, size_t min_width);

// Joins a command line for display: arguments with spaces or quotes are quoted.
std::string JoinCommand(const std::vector<std::string>& args);

}  // namespace strata::cli

#endif  // STRATA_CLI_FORMAT_H_
