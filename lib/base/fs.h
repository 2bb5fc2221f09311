#ifndef STRATA_LIB_BASE_FS_H_
#define STRATA_LIB_BASE_FS_H_

// File-system helpers with Status errors (codes from ErrnoStatus: NOT_FOUND, ALREADY_EXISTS,
// PERMISSION_DENIED, ...), and an owning file descriptor.

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace strata {

// Owns a file descriptor and closes it when destroyed.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { Reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.Release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) Reset(other.Release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int Release() { return std::exchange(fd_, -1); }
  void Reset(int fd = -1);

 private:
  int fd_ = -1;
};

// Whole-file read.
absl::StatusOr<std::string> ReadFile(const std::string& path);

// Writes contents to path so that readers see the old file or the new one, never a mix, and
// the new one survives a crash: write a temporary beside it, fsync, rename, fsync the directory.
absl::Status WriteFileAtomically(const std::string& path, absl::string_view contents,
                                 int mode = 0644);

// mkdir -p. Existing directories are fine.
absl::Status MakeDirs(const std::string& path, int mode = 0755);

// rm -rf that stays on path's file system (never descends into mount points below it) and
// never follows symlinks. A missing path is fine.
absl::Status RemoveAll(const std::string& path);

// RemoveAll for the entry `name` of the directory open at dir_fd, with the same guarantees.
absl::Status RemoveAllAt(int dir_fd, const std::string& name);

// fsync of a directory, so that renames and creations in it are durable.
absl::Status FsyncDir(const std::string& path);

// Writes all of data to fd, retrying short writes and EINTR.
absl::Status WriteAll(int fd, absl::string_view data);

// True when path exists (lstat succeeds).
bool PathExists(const std::string& path);

// The directory part and the last component of a path ("/a/b" -> "/a", "b").
std::string Dirname(absl::string_view path);
std::string Basename(absl::string_view path);

}  // namespace strata

#endif  // STRATA_LIB_BASE_FS_H_
