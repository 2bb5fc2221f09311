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

// "/path" for messages, shortened in the middle when the path is long.
std::string Quoted(const std::string& path) {
  return absl::StrCat("\"/", ShortenMiddle(path), "\"");
}

absl::StatusOr<std::vector<std::string>> SortedNames(int dir_fd, const std::string& path) {
  int dup_fd = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dup_fd < 0) return ErrnoStatus(errno, absl::StrCat("open ", Quoted(path)));
  DIR* dir = ::fdopendir(dup_fd);
  if (dir == nullptr) {
    ::close(dup_fd);
    return ErrnoStatus(errno, absl::StrCat("opendir ", Quoted(path)));
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
  if (read_errno != 0) return ErrnoStatus(read_errno, absl::StrCat("readdir ", Quoted(path)));
  std::sort(names.begin(), names.end());
  return names;
}

// One directory on the way down: its sorted children, the next one to visit, and its
// identity, checked when the walk climbs back into it through "..".
struct Frame {
  std::vector<std::string> names;
  size_t next = 0;
  dev_t dev = 0;
  ino_t ino = 0;
  size_t path_size = 0;  // its path is the walk's `path` cut to this size
};

// The walk below the directory open at root_fd (borrowed), whose path is root_path and
// whose children are at depth first_depth.
absl::Status WalkBelow(int root_fd, const std::string& root_path, int first_depth,
                       const TreeVisitor& visit) {
  struct stat root_st;
  if (::fstat(root_fd, &root_st) != 0) {
    return ErrnoStatus(errno, absl::StrCat("stat ", Quoted(root_path)));
  }
  std::vector<Frame> stack;
  {
    ASSIGN_OR_RETURN(std::vector<std::string> names, SortedNames(root_fd, root_path));
    stack.push_back({std::move(names), 0, root_st.st_dev, root_st.st_ino, root_path.size()});
  }
  std::string path = root_path;  // of the directory on top of the stack
  UniqueFd owned;                // that directory, open (unless it is the root)
  int dir_fd = root_fd;
  while (!stack.empty()) {
    Frame& top = stack.back();
    if (top.next == top.names.size()) {
      stack.pop_back();
      if (stack.empty()) break;
      const Frame& parent = stack.back();
      path.resize(parent.path_size);
      if (stack.size() == 1) {
        owned.Reset();
        dir_fd = root_fd;
        continue;
      }
      UniqueFd up(::openat(dir_fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      struct stat up_st;
      if (!up.valid() || ::fstat(up.get(), &up_st) != 0) {
        return ErrnoStatus(errno, absl::StrCat("open ", Quoted(path)));
      }
      if (up_st.st_dev != parent.dev || up_st.st_ino != parent.ino) {
        return absl::AbortedError(
            absl::StrCat("directory ", Quoted(path), " was moved while it was read; try again"));
      }
      owned = std::move(up);
      dir_fd = owned.get();
      continue;
    }
    const int depth = first_depth + static_cast<int>(stack.size()) - 1;
    TreeEntry entry{{}, dir_fd, top.names[top.next++], {}, depth};
    entry.path = path.empty() ? entry.name : absl::StrCat(path, "/", entry.name);
    if (depth > kMaxTreeDepth) {
      return absl::FailedPreconditionError(
          absl::StrCat("the tree is too deep: ", Quoted(entry.path), " is more than ",
                       kMaxTreeDepth, " directories down"));
    }
    if (entry.path.size() + 1 > kMaxEntryPathSize) {  // + 1: archived as "/path"
      return absl::FailedPreconditionError(
          absl::StrCat("path too long: ", Quoted(entry.path), " has ", entry.path.size() + 1,
                       " bytes, more than PATH_MAX allows (", kMaxEntryPathSize, ")"));
    }
    if (::fstatat(dir_fd, entry.name.c_str(), &entry.st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue;  // removed while we walked
      return ErrnoStatus(errno, absl::StrCat("stat ", Quoted(entry.path)));
    }
    ASSIGN_OR_RETURN(Visit next, visit(entry));
    if (!S_ISDIR(entry.st.st_mode) || next == Visit::kSkipChildren) continue;
    UniqueFd child(
        ::openat(dir_fd, entry.name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    struct stat child_st;
    if (!child.valid() || ::fstat(child.get(), &child_st) != 0) {
      if (errno == ENOENT) continue;
      return ErrnoStatus(errno, absl::StrCat("open ", Quoted(entry.path)));
    }
    ASSIGN_OR_RETURN(std::vector<std::string> names, SortedNames(child.get(), entry.path));
    stack.push_back({std::move(names), 0, child_st.st_dev, child_st.st_ino, entry.path.size()});
    path = std::move(entry.path);
    owned = std::move(child);
    dir_fd = owned.get();
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status WalkTree(int root_fd, const TreeVisitor& visit) {
  return WalkBelow(root_fd, "", 1, visit);
}

absl::Status WalkEntry(int parent_fd, const std::string& name, const std::string& path,
                       const TreeVisitor& visit) {
  TreeEntry entry{path, parent_fd, name, {}, 1};
  if (::fstatat(parent_fd, name.c_str(), &entry.st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return absl::OkStatus();  // removed while we walked
    return ErrnoStatus(errno, absl::StrCat("stat ", Quoted(path)));
  }
  ASSIGN_OR_RETURN(Visit next, visit(entry));
  if (!S_ISDIR(entry.st.st_mode) || next == Visit::kSkipChildren) return absl::OkStatus();
  UniqueFd child(
      ::openat(parent_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!child.valid()) {
    if (errno == ENOENT) return absl::OkStatus();
    return ErrnoStatus(errno, absl::StrCat("open ", Quoted(path)));
  }
  return WalkBelow(child.get(), path, 2, visit);
}

}  // namespace strata::layer
