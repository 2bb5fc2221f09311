#include "lib/testing/tree.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "lib/base/errors.h"
#include "lib/base/fs.h"
#include "lib/digest/digest.h"

namespace strata::testing {
namespace {

struct Walker {
  std::vector<std::string> lines;
  std::map<std::pair<dev_t, ino_t>, std::string> first_links;

  absl::Status Walk(const std::string& root, const std::string& relative) {
    const std::string dir_path = relative.empty() ? root : root + "/" + relative;
    DIR* dir = ::opendir(dir_path.c_str());
    if (dir == nullptr) return ErrnoStatus(errno, "opendir " + dir_path);
    std::vector<std::string> names;
    while (struct dirent* entry = ::readdir(dir)) {
      std::string name = entry->d_name;
      if (name != "." && name != "..") names.push_back(name);
    }
    ::closedir(dir);
    std::sort(names.begin(), names.end());
    for (const std::string& name : names) {
      const std::string rel = relative.empty() ? name : relative + "/" + name;
      const std::string full = root + "/" + rel;
      struct stat st;
      if (::lstat(full.c_str(), &st) != 0) return ErrnoStatus(errno, "lstat " + full);
      std::string line = absl::StrCat("/", rel, " ");
      absl::StrAppend(&line, absl::Hex(st.st_mode & S_IFMT, absl::kZeroPad6), " ",
                      absl::Hex(st.st_mode & 07777, absl::kZeroPad4), " ", st.st_uid, ":",
                      st.st_gid);
      if (S_ISREG(st.st_mode)) {
        ASSIGN_OR_RETURN(std::string contents, ReadFile(full));
        absl::StrAppend(&line, " size=", st.st_size, " ", Digest::Of(contents).ShortHex());
        if (st.st_nlink > 1) {
          auto [it, first] = first_links.try_emplace({st.st_dev, st.st_ino}, rel);
          absl::StrAppend(&line, " link-group=", it->second);
        }
      } else if (S_ISLNK(st.st_mode)) {
        char target[4096];
        ssize_t n = ::readlink(full.c_str(), target, sizeof(target));
        absl::StrAppend(&line, " -> ", std::string(target, n > 0 ? n : 0));
      } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
        absl::StrAppend(&line, " dev=", major(st.st_rdev), ",", minor(st.st_rdev));
      }
      char names_buffer[65536];
      ssize_t length = ::llistxattr(full.c_str(), names_buffer, sizeof(names_buffer));
      std::vector<std::string> xattrs;
      for (ssize_t start = 0; length > 0 && start < length;) {
        std::string xattr_name(names_buffer + start);
        start += static_cast<ssize_t>(xattr_name.size()) + 1;
        if (absl::StartsWith(xattr_name, "trusted.overlay.")) continue;
        char value[65536];
        ssize_t size = ::lgetxattr(full.c_str(), xattr_name.c_str(), value, sizeof(value));
        xattrs.push_back(absl::StrCat(xattr_name, "=", std::string(value, size > 0 ? size : 0)));
      }
      std::sort(xattrs.begin(), xattrs.end());
      for (const std::string& xattr : xattrs) absl::StrAppend(&line, " xattr:", xattr);
      lines.push_back(line);
      if (S_ISDIR(st.st_mode)) RETURN_IF_ERROR(Walk(root, rel));
    }
    return absl::OkStatus();
  }
};

}  // namespace

absl::StatusOr<std::string> DescribeTree(const std::string& root) {
  Walker walker;
  RETURN_IF_ERROR(walker.Walk(root, ""));
  std::string out;
  for (const std::string& line : walker.lines) absl::StrAppend(&out, line, "\n");
  return out;
}

void WriteFileOrDie(const std::string& path, const std::string& contents, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0 || !WriteAll(fd, contents).ok() || ::fchmod(fd, mode) != 0) {
    std::perror(path.c_str());
    std::abort();
  }
  ::close(fd);
}

void MakeDirOrDie(const std::string& path, mode_t mode) {
  if (!MakeDirs(path, mode).ok() || ::chmod(path.c_str(), mode) != 0) {
    std::perror(path.c_str());
    std::abort();
  }
}

}  // namespace strata::testing
