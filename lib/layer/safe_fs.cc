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
            absl::StrCat("path \"", ShortenMiddle(path), "\" climbs above the root"));
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
  return ErrnoStatus(errno, absl::StrCat("open \"/", ShortenMiddle(path), "\""));
}

absl::StatusOr<UniqueFd> MakeDirsInRoot(int root_fd, const std::string& path) {
  // Up from the whole path to the deepest directory that exists, then down creating the rest:
  // a loop, not recursion, so a deep path cannot exhaust a small thread stack.
  size_t existing = path.size();
  UniqueFd dir;
  for (;;) {
    absl::StatusOr<UniqueFd> opened =
        OpenInRoot(root_fd, path.substr(0, existing), O_PATH | O_DIRECTORY);
    if (opened.ok()) {
      dir = std::move(*opened);
      break;
    }
    if (!absl::IsNotFound(opened.status()) || existing == 0) return opened.status();
    const size_t slash = path.rfind('/', existing - 1);
    existing = slash == std::string::npos ? 0 : slash;
  }
  while (existing < path.size()) {
    const size_t start = existing == 0 ? 0 : existing + 1;
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    const std::string name = path.substr(start, end - start);
    if (::mkdirat(dir.get(), name.c_str(), 0755) != 0 && errno != EEXIST) {
      return ErrnoStatus(errno,
                         absl::StrCat("mkdir \"/", ShortenMiddle(path.substr(0, end)), "\""));
    }
    UniqueFd created(
        ::openat(dir.get(), name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!created.valid()) {
      const std::string made = ShortenMiddle(path.substr(0, end));
      if (errno == ENOTDIR || errno == ELOOP) {
        return absl::AlreadyExistsError(
            absl::StrCat("\"/", made, "\" exists and is not a directory"));
      }
      return ErrnoStatus(errno, absl::StrCat("open \"/", made, "\""));
    }
    dir = std::move(created);
    existing = end;
  }
  return dir;
}

std::string ProcFdPath(int dir_fd, absl::string_view name) {
  return absl::StrCat("/proc/self/fd/", dir_fd, "/", name);
}

}  // namespace strata::layer
