#include "cli/file_output.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "lib/base/errors.h"

namespace strata::cli {
namespace {

// The writeback window: large enough for sequential disk writes, small enough that a few of
// them in flight stay far below the kernel's dirty-page limits.
constexpr int64_t kWriteBehindWindow = 32 << 20;

}  // namespace

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

absl::Status FileOutput::WriteBehindSink::Write(absl::string_view data) {
  RETURN_IF_ERROR(WriteAll(output_->fd(), data));
  written_ += static_cast<int64_t>(data.size());
  if (output_->temp_.empty() || written_ - handed_ < kWriteBehindWindow) return absl::OkStatus();
  // Start writing this window out, and wait for the one before it: the stream never has more
  // than two windows of dirty pages, and the disk works while the stream goes on. Errors are
  // left to the fsync of Commit, which sees them all.
  const int fd = output_->file_.get();
  ::sync_file_range(fd, handed_, written_ - handed_, SYNC_FILE_RANGE_WRITE);
  if (handed_ > previous_) {
    ::sync_file_range(
        fd, previous_, handed_ - previous_,
        SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER);
  }
  previous_ = handed_;
  handed_ = written_;
  return absl::OkStatus();
}

absl::Status FileOutput::Commit() {
  if (temp_.empty()) return absl::OkStatus();
  if (::fsync(file_.get()) != 0 || ::rename(temp_.c_str(), path_.c_str()) != 0) {
    return ErrnoStatus(errno, "write " + path_);
  }
  temp_.clear();
  return absl::OkStatus();
}

}  // namespace strata::cli
