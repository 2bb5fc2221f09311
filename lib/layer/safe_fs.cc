#include "lib/layer/safe_fs.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "lib/base/errors.h"

namespace strata::layer {

absl::StatusOr<std::string> CleanPath(absl::string_view path) {
  if (path.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError("path holds a NUL byte");
  }
  std::vector<absl::string_view> parts;
  for (absl::string_view part : absl::StrSplit(path, '/', absl::SkipEmpty())) {
    if (part == ".") continue;
    if (part == "..") {
      if (parts.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("path \"", path.substr(0, 200), "\" climbs above the root"));
      }
      parts.pop_back();
      continue;
    }
    parts.push_back(part);
  }
  return absl::StrJoin(parts, "/");
}

absl::StatusOr<UniqueFd> OpenInRoot(int root_fd, const std::string& path, int flags, mode_t mode) {
  struct open_how how {};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  const char* name = path.empty() ? "." : path.c_str();
  for (;;) {
    long fd = ::syscall(SYS_openat2, root_fd, name, &how, sizeof(how));
    if (fd >= 0) return UniqueFd(static_cast<int>(fd));
    // EAGAIN: a rename raced with the lookup; the kernel asks us to retry.
    if (errno != EAGAIN && errno != EINTR) break;
  }
  return ErrnoStatus(errno, absl::StrCat("open \"/", path, "\""));
}

absl::StatusOr<UniqueFd> MakeDirsInRoot(int root_fd, const std::string& path) {
  absl::StatusOr<UniqueFd> dir = OpenInRoot(root_fd, path, O_PATH | O_DIRECTORY);
  if (dir.ok() || !absl::IsNotFound(dir.status()) || path.empty()) return dir;
  const size_t slash = path.rfind('/');
  const std::string parent = slash == std::string::npos ? "" : path.substr(0, slash);
  const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  ASSIGN_OR_RETURN(UniqueFd parent_fd, MakeDirsInRoot(root_fd, parent));
  if (::mkdirat(parent_fd.get(), name.c_str(), 0755) != 0 && errno != EEXIST) {
    return ErrnoStatus(errno, absl::StrCat("mkdir \"/", path, "\""));
  }
  UniqueFd created(
      ::openat(parent_fd.get(), name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!created.valid()) {
    if (errno == ENOTDIR || errno == ELOOP) {
      return absl::AlreadyExistsError(
          absl::StrCat("\"/", path, "\" exists and is not a directory"));
    }
    return ErrnoStatus(errno, absl::StrCat("open \"/", path, "\""));
  }
  return created;
}

std::string ProcFdPath(int dir_fd, absl::string_view name) {
  return absl::StrCat("/proc/self/fd/", dir_fd, "/", name);
}

}  // namespace strata::layer
