#ifndef STRATA_SERVICES_RUNTIME_CORE_CONTAINER_PATH_H_
#define STRATA_SERVICES_RUNTIME_CORE_CONTAINER_PATH_H_

// Paths of a container's file system as a process inside it sees them: resolved component
// by component from its root, as in a chroot. A symlink's target is read and followed inside
// the root (absolute targets start again at the root, ".." stops there), so no path, however
// hostile the links the container made (`/etc -> /`, `up -> ../../..`), names anything
// outside it. What `docker cp` needs to decide where a copy goes; the copy itself then opens
// the result with openat2(RESOLVE_IN_ROOT), so a link swapped in between is still confined.

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace strata::runtime {

struct ResolvedPath {
  // Relative to the root, cleaned, "" for the root itself; every component but the last is
  // a directory that is no symlink.
  std::string path;
  bool exists = false;
  // Of what exists at path (a symlink when follow_final was false and it is one).
  bool is_dir = false;
  bool is_symlink = false;
};

// Resolves path (absolute or relative: both start at the root) in the tree open at root_fd.
// With follow_final, a symlink at the end is followed too; a missing last component is fine
// (exists = false).
// Errors: NOT_FOUND (a directory on the way is missing), FAILED_PRECONDITION (a component on
// the way is not a directory), INVALID_ARGUMENT (more than 40 symlinks), errno's.
absl::StatusOr<ResolvedPath> ResolveInContainer(int root_fd, absl::string_view path,
                                                bool follow_final);

}  // namespace strata::runtime

#endif  // STRATA_SERVICES_RUNTIME_CORE_CONTAINER_PATH_H_
