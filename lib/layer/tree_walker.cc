#include "lib/layer/tree_walker.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "absl/strings/str_cat.h"
#include "lib/base/errors.h"
#include "lib/base/fs.h"

namespace strata::layer {
namespace {

absl::StatusOr<std::vector<std::string>> SortedNames(int dir_fd, const std::string& path) {
  int dup_fd = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dup_fd < 0) return ErrnoStatus(errno, absl::StrCat("open \"/", path, "\""));
  DIR* dir = ::fdopendir(dup_fd);
  if (dir == nullptr) {
    ::close(dup_fd);
    return ErrnoStatus(errno, absl::StrCat("opendir \"/", path, "\""));
  }
  std::vector<std::string> names;
  errno = 0;
  while (struct dirent* entry = ::readdir(dir)) {
    const char* name = entry->d_name;
    if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'))) continue;
    names.emplace_back(name);
  }
  const int read_errno = errno;
  ::closedir(dir);
  if (read_errno != 0) return ErrnoStatus(read_errno, absl::StrCat("readdir \"/", path, "\""));
  std::sort(names.begin(), names.end());
  return names;
}

absl::Status WalkChildren(int dir_fd, const std::string& dir_path, const TreeVisitor& visit);

absl::Status VisitOne(int parent_fd, const std::string& name, const std::string& path,
                      const TreeVisitor& visit) {
  TreeEntry entry{path, parent_fd, name, {}};
  if (::fstatat(parent_fd, name.c_str(), &entry.st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return absl::OkStatus();  // removed while we walked
    return ErrnoStatus(errno, absl::StrCat("stat \"/", path, "\""));
  }
  ASSIGN_OR_RETURN(Visit next, visit(entry));
  if (!S_ISDIR(entry.st.st_mode) || next == Visit::kSkipChildren) return absl::OkStatus();
  UniqueFd child(
      ::openat(parent_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!child.valid()) {
    if (errno == ENOENT) return absl::OkStatus();
    return ErrnoStatus(errno, absl::StrCat("open \"/", path, "\""));
  }
  return WalkChildren(child.get(), path, visit);
}

absl::Status WalkChildren(int dir_fd, const std::string& dir_path, const TreeVisitor& visit) {
  ASSIGN_OR_RETURN(std::vector<std::string> names, SortedNames(dir_fd, dir_path));
  for (const std::string& name : names) {
    const std::string path = dir_path.empty() ? name : absl::StrCat(dir_path, "/", name);
    RETURN_IF_ERROR(VisitOne(dir_fd, name, path, visit));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status WalkTree(int root_fd, const TreeVisitor& visit) {
  return WalkChildren(root_fd, "", visit);
}

absl::Status WalkEntry(int parent_fd, const std::string& name, const std::string& path,
                       const TreeVisitor& visit) {
  return VisitOne(parent_fd, name, path, visit);
}

}  // namespace strata::layer
