#include "services/runtime/core/container_path.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <deque>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "lib/base/errors.h"
#include "lib/base/fs.h"

namespace strata::runtime {
namespace {

// Like Linux's MAXSYMLINKS.
constexpr int kMaxSymlinks = 40;

void PushFront(std::deque<std::string>& todo, absl::string_view path) {
  std::vector<std::string> parts = absl::StrSplit(path, '/', absl::SkipEmpty());
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) todo.push_front(*it);
}

}  // namespace

absl::StatusOr<ResolvedPath> ResolveInContainer(int root_fd, absl::string_view path,
                                                bool follow_final) {
  if (path.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError("path holds a NUL byte");
  }
  std::deque<std::string> todo;
  PushFront(todo, path);
  // The components resolved so far, and an O_PATH descriptor of each directory among them.
  std::vector<std::string> done;
  std::vector<UniqueFd> dirs;
  int links = 0;
  ResolvedPath result;
  result.exists = true;
  result.is_dir = true;  // the root
  while (!todo.empty()) {
    const std::string part = std::move(todo.front());
    todo.pop_front();
    if (part == ".") continue;
    if (part == "..") {
      if (!done.empty()) {
        done.pop_back();
        dirs.pop_back();
      }
      result.is_dir = true;
      continue;
    }
    const int dir_fd = dirs.empty() ? root_fd : dirs.back().get();
    const bool last = todo.empty();
    struct stat st;
    if (::fstatat(dir_fd, part.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      const int error = errno;
      if (error == ENOENT && last) {
        done.push_back(part);
        result.exists = false;
        result.is_dir = false;
        break;
      }
      const std::string so_far =
          absl::StrCat("/", absl::StrJoin(done, "/"), done.empty() ? "" : "/", part);
      return ErrnoStatus(error, "lstat " + so_far);
    }
    if (S_ISLNK(st.st_mode) && (!last || follow_final)) {
      if (++links > kMaxSymlinks) {
        return absl::InvalidArgumentError(
            absl::StrCat("too many levels of symbolic links in \"", path, "\""));
      }
      char target[4096];
      const ssize_t length = ::readlinkat(dir_fd, part.c_str(), target, sizeof(target) - 1);
      if (length < 0) return ErrnoStatus(errno, "readlink " + part);
      const absl::string_view link(target, static_cast<size_t>(length));
      if (!link.empty() && link[0] == '/') {
        done.clear();
        dirs.clear();
      }
      PushFront(todo, link);
      result.is_dir = true;  // an empty or "/" target leaves us at a directory
      continue;
    }
    if (!last && !S_ISDIR(st.st_mode)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "/", absl::StrJoin(done, "/"), done.empty() ? "" : "/", part, ": not a directory"));
    }
    done.push_back(part);
    result.is_dir = S_ISDIR(st.st_mode);
    result.is_symlink = S_ISLNK(st.st_mode);
    if (!last) {
      UniqueFd next(::openat(dir_fd, part.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!next.valid()) return ErrnoStatus(errno, "open " + part);
      dirs.push_back(std::move(next));
    }
  }
  result.path = absl::StrJoin(done, "/");
  return result;
}

}  // namespace strata::runtime
