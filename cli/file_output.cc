#include "cli/file_output.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "lib/base/errors.h"

namespace strata::cli {

FileOutput::~FileOutput() {
  if (!temp_.empty()) ::unlink(temp_.c_str());
}

absl::Status FileOutput::Open(const std::string& path) {
  path_ = path;
  if (path.empty()) return absl::OkStatus();
  struct stat st;
  const int looked =
      symlinks_ == Symlinks::kFollow ? ::stat(path.c_str(), &st) : ::lstat(path.c_str(), &st);
  if (looked != 0 || S_ISREG(st.st_mode)) {
    temp_ = absl::StrCat(path, ".", temp_tag_, "-", ::getpid());
    file_.Reset(::open(temp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  } else {
    file_.Reset(::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC));
  }
  if (!file_.valid()) return ErrnoStatus(errno, "open " + path);
  return absl::OkStatus();
}

int FileOutput::fd() const { return path_.empty() ? STDOUT_FILENO : file_.get(); }

absl::Status FileOutput::Commit() {
  if (temp_.empty()) return absl::OkStatus();
  if (::fsync(file_.get()) != 0 || ::rename(temp_.c_str(), path_.c_str()) != 0) {
    return ErrnoStatus(errno, "write " + path_);
  }
  temp_.clear();
  return absl::OkStatus();
}

}  // namespace strata::cli
