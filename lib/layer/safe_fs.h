#ifndef STRATA_LIB_LAYER_SAFE_FS_H_
#define STRATA_LIB_LAYER_SAFE_FS_H_

// File operations confined to a directory tree. Layer tars and container file systems are
// untrusted: a path in them ("../../etc/passwd", or "a/b" where "a" is a symlink to "/") must
// never reach outside the tree. Every path here is resolved by the kernel with
// openat2(RESOLVE_IN_ROOT): ".." and absolute symlinks stop at the tree's root, exactly as
// they would inside a chroot, and nothing outside can be named.

#include <sys/types.h>

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "lib/base/fs.h"

namespace strata::layer {

// Cleans a path from an archive or a request into a relative path inside a root: strips
// leading "/" and "./", collapses "//" and ".", resolves ".." lexically. Returns "" for the
// root itself.
// Errors: INVALID_ARGUMENT when ".." climbs above the root or the path holds a NUL byte.
absl::StatusOr<std::string> CleanPath(absl::string_view path);

// openat2(root_fd, path, flags, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS). With O_NOFOLLOW the
// last component is not followed (O_PATH | O_NOFOLLOW opens a symlink itself). path is
// relative to the root (a cleaned path; "" or "." is the root).
// Errors: from errno (NOT_FOUND, ...), naming the path.
absl::StatusOr<UniqueFd> OpenInRoot(int root_fd, const std::string& path, int flags,
                                    mode_t mode = 0);

// The directory at path inside the root, created (with missing parents, mode 0755) when
// absent. Errors: from errno; ALREADY_EXISTS when a non-directory is in the way.
absl::StatusOr<UniqueFd> MakeDirsInRoot(int root_fd, const std::string& path);

// "/proc/self/fd/<dir_fd>/<name>": names an entry of an open directory for the calls that
// take no directory descriptor (lsetxattr, lgetxattr, ...). Only the final component is
// resolved by the path walk, and the l* calls do not follow it.
std::string ProcFdPath(int dir_fd, absl::string_view name);

}  // namespace strata::layer

#endif  // STRATA_LIB_LAYER_SAFE_FS_H_
