#include "lib/base/fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "absl/strings/str_cat.h"
#include "lib/base/errors.h"

namespace strata {

void UniqueFd::Reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoStatus(errno, absl::StrCat("open ", path));
  std::string contents;
  char buffer[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, absl::StrCat("read ", path));
    }
    if (n == 0) break;
    contents.append(buffer, static_cast<size_t>(n));
  }
  return contents;
}

absl::Status WriteAll(int fd, absl::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "write");
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

absl::Status FsyncDir(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoStatus(errno, absl::StrCat("open ", path));
  if (::fsync(fd.get()) != 0) return ErrnoStatus(errno, absl::StrCat("fsync ", path));
  return absl::OkStatus();
}

absl::Status WriteFileAtomically(const std::string& path, absl::string_view contents, int mode) {
  const std::string temp = absl::StrCat(path, ".tmp-", ::getpid());
  UniqueFd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
  if (!fd.valid()) return ErrnoStatus(errno, absl::StrCat("create ", temp));
  absl::Status status = WriteAll(fd.get(), contents);
  if (status.ok() && ::fsync(fd.get()) != 0) status = ErrnoStatus(errno, "fsync " + temp);
  if (status.ok() && ::fchmod(fd.get(), mode) != 0) status = ErrnoStatus(errno, "chmod " + temp);
  fd.Reset();
  if (status.ok() && ::rename(temp.c_str(), path.c_str()) != 0) {
    status = ErrnoStatus(errno, absl::StrCat("rename ", temp, " to ", path));
  }
  if (!status.ok()) {
    ::unlink(temp.c_str());
    return status;
  }
  return FsyncDir(Dirname(path));
}

absl::Status MakeDirs(const std::string& path, int mode) {
  if (path.empty()) return absl::InvalidArgumentError("mkdir: empty path");
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return absl::OkStatus();
    return absl::AlreadyExistsError(
        absl::StrCat("mkdir ", path, ": exists and is not a directory"));
  }
  const std::string parent = Dirname(path);
  if (parent != path) RETURN_IF_ERROR(MakeDirs(parent, mode));
  if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST) {
    return ErrnoStatus(errno, absl::StrCat("mkdir ", path));
  }
  return absl::OkStatus();
}

namespace {

absl::StatusOr<std::vector<std::string>> Names(int dirfd, const std::string& path) {
  int dup_fd = ::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dup_fd < 0) return ErrnoStatus(errno, absl::StrCat("open ", ShortenMiddle(path)));
  DIR* dir = ::fdopendir(dup_fd);
  if (dir == nullptr) {
    ::close(dup_fd);
    return ErrnoStatus(errno, absl::StrCat("opendir ", ShortenMiddle(path)));
  }
  std::vector<std::string> names;
  while (struct dirent* entry = ::readdir(dir)) {
    std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
  }
  ::closedir(dir);
  return names;
}

// One directory being emptied: what it held, how far we are, its name in its parent, and its
// identity (checked when climbing back into it through "..").
struct RemovalFrame {
  std::vector<std::string> names;
  size_t next = 0;
  std::string name_in_parent;
  ino_t ino = 0;
  size_t path_size = 0;
};

// Removes everything inside the directory open at dirfd, staying on device `dev`. Iterative
// (trees made by containers can be any depth; this runs on small gRPC thread stacks) and with
// one directory open at a time, so neither depth nor the open-file limit can stop a removal.
absl::Status RemoveContents(int dirfd, dev_t dev, const std::string& root_path) {
  struct stat root_st;
  if (::fstat(dirfd, &root_st) != 0) return ErrnoStatus(errno, "stat " + ShortenMiddle(root_path));
  std::vector<RemovalFrame> stack;
  {
    ASSIGN_OR_RETURN(std::vector<std::string> names, Names(dirfd, root_path));
    stack.push_back({std::move(names), 0, "", root_st.st_ino, root_path.size()});
  }
  std::string path = root_path;
  UniqueFd owned;
  int fd = dirfd;
  while (!stack.empty()) {
    RemovalFrame& top = stack.back();
    if (top.next == top.names.size()) {
      if (stack.size() == 1) break;  // the caller removes the root itself
      const std::string name = std::move(top.name_in_parent);
      stack.pop_back();
      const RemovalFrame& parent = stack.back();
      path.resize(parent.path_size);
      if (stack.size() == 1) {
        owned.Reset();
        fd = dirfd;
      } else {
        UniqueFd up(::openat(fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        struct stat up_st;
        if (!up.valid() || ::fstat(up.get(), &up_st) != 0) {
          return ErrnoStatus(errno, "open " + ShortenMiddle(path));
        }
        if (up_st.st_dev != dev || up_st.st_ino != parent.ino) {
          return absl::AbortedError(absl::StrCat("remove ", ShortenMiddle(path),
                                                 ": moved while it was removed; try again"));
        }
        owned = std::move(up);
        fd = owned.get();
      }
      if (::unlinkat(fd, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
        return ErrnoStatus(errno, absl::StrCat("rmdir ", ShortenMiddle(path + "/" + name)));
      }
      continue;
    }
    const std::string name = top.names[top.next++];
    const std::string child_path = absl::StrCat(path, "/", name);
    struct stat st;
    if (::fstatat(fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue;
      return ErrnoStatus(errno, absl::StrCat("stat ", ShortenMiddle(child_path)));
    }
    if (!S_ISDIR(st.st_mode)) {
      if (::unlinkat(fd, name.c_str(), 0) != 0 && errno != ENOENT) {
        return ErrnoStatus(errno, absl::StrCat("unlink ", ShortenMiddle(child_path)));
      }
      continue;
    }
    if (st.st_dev != dev) {
      return absl::FailedPreconditionError(
          absl::StrCat("remove ", ShortenMiddle(child_path), ": a file system is mounted there"));
    }
    UniqueFd child(::openat(fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!child.valid()) {
      if (errno == ENOENT) continue;
      return ErrnoStatus(errno, absl::StrCat("open ", ShortenMiddle(child_path)));
    }
    ASSIGN_OR_RETURN(std::vector<std::string> names, Names(child.get(), child_path));
    stack.push_back({std::move(names), 0, name, st.st_ino, child_path.size()});
    path = child_path;
    owned = std::move(child);
    fd = owned.get();
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status RemoveAllAt(int dir_fd, const std::string& name) {
  struct stat st;
  if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return ErrnoStatus(errno, absl::StrCat("stat ", ShortenMiddle(name)));
  }
  if (!S_ISDIR(st.st_mode)) {
    if (::unlinkat(dir_fd, name.c_str(), 0) != 0 && errno != ENOENT) {
      return ErrnoStatus(errno, absl::StrCat("unlink ", ShortenMiddle(name)));
    }
    return absl::OkStatus();
  }
  UniqueFd fd(::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) return ErrnoStatus(errno, absl::StrCat("open ", ShortenMiddle(name)));
  RETURN_IF_ERROR(RemoveContents(fd.get(), st.st_dev, name));
  fd.Reset();
  if (::unlinkat(dir_fd, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
    return ErrnoStatus(errno, absl::StrCat("rmdir ", ShortenMiddle(name)));
  }
  return absl::OkStatus();
}

absl::Status RemoveAll(const std::string& path) { return RemoveAllAt(AT_FDCWD, path); }

bool PathExists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

std::string Dirname(absl::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  size_t slash = path.rfind('/');
  if (slash == absl::string_view::npos) return ".";
  if (slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

std::string Basename(absl::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  size_t slash = path.rfind('/');
  if (slash == absl::string_view::npos || path.size() == 1) return std::string(path);
  return std::string(path.substr(slash + 1));
}

}  // namespace strata
