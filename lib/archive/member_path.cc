#include "lib/archive/member_path.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace strata::archive {
namespace {

constexpr size_t kMaxPath = 4095;

std::string Shown(absl::string_view raw) {
  return std::string(raw.substr(0, 200)) + (raw.size() > 200 ? "..." : "");
}

}  // namespace

absl::StatusOr<std::string> CleanMemberPath(absl::string_view raw) {
  if (raw.size() > kMaxPath) {
    return absl::InvalidArgumentError(
        absl::StrCat("archive member \"", Shown(raw), "\": name longer than 4095 bytes"));
  }
  if (raw.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("archive member \"", Shown(raw), "\": NUL in its name"));
  }
  if (!raw.empty() && raw[0] == '/') {
    return absl::InvalidArgumentError(absl::StrCat("archive member \"", Shown(raw),
                                                   "\": absolute name (path traversal refused)"));
  }
  std::vector<absl::string_view> parts;
  for (absl::string_view part : absl::StrSplit(raw, '/', absl::SkipEmpty())) {
    if (part == ".") continue;
    if (part == "..") {
      return absl::InvalidArgumentError(absl::StrCat(
          "archive member \"", Shown(raw), "\": \"..\" in its name (path traversal refused)"));
    }
    parts.push_back(part);
  }
  if (parts.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("archive member \"", Shown(raw), "\": empty name"));
  }
  return absl::StrJoin(parts, "/");
}

absl::StatusOr<std::string> ResolveMemberLink(absl::string_view link_path,
                                              absl::string_view target) {
  if (!target.empty() && target[0] == '/') {
    return absl::InvalidArgumentError(absl::StrCat("archive member \"", Shown(link_path),
                                                   "\": link to an absolute path refused"));
  }
  std::vector<std::string> parts;
  const size_t slash = link_path.rfind('/');
  if (slash != absl::string_view::npos) {
    for (absl::string_view part :
         absl::StrSplit(link_path.substr(0, slash), '/', absl::SkipEmpty())) {
      parts.emplace_back(part);
    }
  }
  for (absl::string_view part : absl::StrSplit(target, '/', absl::SkipEmpty())) {
    if (part == ".") continue;
    if (part == "..") {
      if (parts.empty()) {
        return absl::InvalidArgumentError(absl::StrCat("archive member \"", Shown(link_path),
                                                       "\": link leaves the archive (refused)"));
      }
      parts.pop_back();
      continue;
    }
    parts.emplace_back(part);
  }
  if (parts.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("archive member \"", Shown(link_path), "\": link to nothing"));
  }
  return absl::StrJoin(parts, "/");
}

}  // namespace strata::archive
