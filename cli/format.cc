#include "cli/format.h"

#include <cmath>
#include <cstdio>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace strata::cli {
namespace {

size_t Utf8Length(const std::string& text) {
  size_t length = 0;
  for (unsigned char c : text) {
    if ((c & 0xc0) != 0x80) ++length;
  }
  return length;
}

}  // namespace

std::string HumanSize(int64_t bytes) {
  static const char* kUnits[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
  double size = static_cast<double>(bytes);
  int unit = 0;
  while (size >= 1000.0 && unit < 6) {
    size /= 1000.0;
    ++unit;
  }
  // Three significant digits, trailing zeros dropped (Go's %.3g).
  return absl::StrCat(absl::StrFormat("%.3g", size), kUnits[unit]);
}

std::string HumanDuration(absl::Duration duration) {
  const int64_t seconds = absl::ToInt64Seconds(duration);
  if (seconds < 1) return "Less than a second";
  if (seconds == 1) return "1 second";
  if (seconds < 60) return absl::StrCat(seconds, " seconds");
  const int64_t minutes = absl::ToInt64Minutes(duration);
  if (minutes == 1) return "About a minute";
  if (minutes < 60) return absl::StrCat(minutes, " minutes");
  const int64_t hours = static_cast<int64_t>(absl::ToDoubleHours(duration) + 0.5);
  if (hours == 1) return "About an hour";
  if (hours < 48) return absl::StrCat(hours, " hours");
  if (hours < 24 * 7 * 2) return absl::StrCat(hours / 24, " days");
  if (hours < 24 * 30 * 2) return absl::StrCat(hours / 24 / 7, " weeks");
  if (hours < 24 * 365 * 2) return absl::StrCat(hours / 24 / 30, " months");
  return absl::StrCat(absl::ToInt64Hours(duration) / 24 / 365, " years");
}

std::string TimeAgo(absl::Time time, absl::Time now) {
  if (time == absl::InfinitePast() || time == absl::UnixEpoch()) return "N/A";
  return absl::StrCat(HumanDuration(now - time), " ago");
}

std::string Ellipsis(const std::string& text, size_t max) {
  if (Utf8Length(text) <= max) return text;
  std::string out;
  size_t count = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if ((c & 0xc0) != 0x80) {
      if (count == max - 1) break;
      ++count;
    }
    out.push_back(text[i]);
  }
  return out + "…";
}

std::string ShortId(const std::string& id) {
  std::string hex = absl::StartsWith(id, "sha256:") ? id.substr(7) : id;
  return hex.substr(0, 12);
}

std::string Table::Render() const {
  std::vector<size_t> widths;
  for (const auto& row : rows_) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) {
      widths[i] = std::max(widths[i], Utf8Length(row[i]));
    }
  }
  std::string out;
  for (const auto& row : rows_) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line.append(widths[i] - Utf8Length(row[i]) + 3, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    absl::StrAppend(&out, line, "\n");
  }
  return out;
}

std::string AlignColumns(const std::vector<std::vector<std::string>>& rows, size_t min_width) {
  // Only cells followed by another make columns: a row's last cell is never padded.
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    for (size_t i = 0; i + 1 < row.size(); ++i) {
      if (widths.size() <= i) widths.push_back(min_width);
      widths[i] = std::max(widths[i], Utf8Length(row[i]) + 3);
    }
  }
  std::string out;
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      out += row[i];
      if (i + 1 < row.size()) out.append(widths[i] - Utf8Length(row[i]), ' ');
    }
    out += "\n";
  }
  return out;
}

std::string JoinCommand(const std::vector<std::string>& args) {
  std::vector<std::string> quoted;
  for (const std::string& arg : args) {
    if (arg.empty() || arg.find_first_of(" \t\n'\"$`\\") != std::string::npos) {
      std::string escaped = "'";
      for (char c : arg) {
        if (c == '\'') {
          escaped += "'\\''";
        } else {
          escaped.push_back(c);
        }
      }
      quoted.push_back(escaped + "'");
    } else {
      quoted.push_back(arg);
    }
  }
  return absl::StrJoin(quoted, " ");
}

}  // namespace strata::cli
