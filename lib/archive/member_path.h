#ifndef STRATA_LIB_ARCHIVE_MEMBER_PATH_H_
#define STRATA_LIB_ARCHIVE_MEMBER_PATH_H_

// The names of an image archive's members, checked before anything looks them up: an archive
// comes from anyone, and a name that climbs out of the archive ("../x", "/etc/x") must never
// reach a file system or alias another member.

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace strata::archive {

// "./a//b/" -> "a/b". Errors: INVALID_ARGUMENT naming the member when it is empty, absolute,
// has a ".." component or a NUL, or is longer than 4095 bytes.
absl::StatusOr<std::string> CleanMemberPath(absl::string_view raw);

// The member a symlink at `link_path` pointing at `target` names, cleaned the same way
// (relative targets resolve against the link's directory).
// Errors: INVALID_ARGUMENT when it would leave the archive.
absl::StatusOr<std::string> ResolveMemberLink(absl::string_view link_path,
                                              absl::string_view target);

}  // namespace strata::archive

#endif  // STRATA_LIB_ARCHIVE_MEMBER_PATH_H_
