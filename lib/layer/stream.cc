#include "lib/layer/stream.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "lib/base/errors.h"
#include "lib/base/fs.h"

namespace strata::layer {

absl::Status HashingSink::Write(absl::string_view data) {
  hasher_.Update(data);
  return next_->Write(data);
}

absl::StatusOr<absl::string_view> HashingSource::Read() {
  absl::StatusOr<absl::string_view> chunk = source_->Read();
  if (chunk.ok()) hasher_.Update(*chunk);
  return chunk;
}

absl::StatusOr<absl::string_view> FdSource::Read() {
  for (;;) {
    ssize_t n = ::read(fd_, buffer_.data(), buffer_.size());
    if (n >= 0) return absl::string_view(buffer_.data(), static_cast<size_t>(n));
    if (errno != EINTR) return ErrnoStatus(errno, "read");
  }
}

absl::Status FdSink::Write(absl::string_view data) { return WriteAll(fd_, data); }

absl::StatusOr<absl::string_view> StringSource::Read() {
  const size_t n = std::min(chunk_size_, contents_.size() - offset_);
  absl::string_view chunk(contents_.data() + offset_, n);
  offset_ += n;
  return chunk;
}

absl::Status BufferingSink::Write(absl::string_view data) {
  // Large writes bypass the buffer once it is drained: no copy for bulk data.
  if (buffer_.empty() && data.size() >= chunk_size_) return next_->Write(data);
  while (!data.empty()) {
    const size_t n = std::min(chunk_size_ - buffer_.size(), data.size());
    buffer_.append(data.data(), n);
    data.remove_prefix(n);
    if (buffer_.size() == chunk_size_) {
      RETURN_IF_ERROR(next_->Write(buffer_));
      buffer_.clear();
      if (data.size() >= chunk_size_) return next_->Write(data);
    }
  }
  return absl::OkStatus();
}

absl::Status BufferingSink::Close() {
  if (!buffer_.empty()) {
    RETURN_IF_ERROR(next_->Write(buffer_));
    buffer_.clear();
  }
  return next_->Close();
}

}  // namespace strata::layer
