#ifndef STRATA_LIB_LAYER_STREAM_H_
#define STRATA_LIB_LAYER_STREAM_H_

// Byte streams the layer codec is built from: a ByteSource is pulled from, a ByteSink is
// pushed to. Both pass chunks by view, so a pipeline (tar -> hash -> compress -> hash ->
// network) copies bytes only where a stage must transform them.

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "lib/digest/digest.h"

namespace strata::layer {

// Something bytes are pulled from.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // The next chunk; empty at the end. The view is valid until the next call.
  virtual absl::StatusOr<absl::string_view> Read() = 0;
};

// Something bytes are pushed to. Close() flushes and finishes the stream; nothing may be
// written after it.
class ByteSink {
 public:
  virtual ~ByteSink() = default;
  virtual absl::Status Write(absl::string_view data) = 0;
  virtual absl::Status Close() { return absl::OkStatus(); }
};

// Passes bytes through to another sink, hashing and counting them on the way.
class HashingSink : public ByteSink {
 public:
  explicit HashingSink(ByteSink* next) : next_(next) {}
  absl::Status Write(absl::string_view data) override;
  absl::Status Close() override { return next_->Close(); }
  // Bytes written so far, and their digest (Finish once, after Close).
  uint64_t size() const { return hasher_.size(); }
  Digest Finish() { return hasher_.Finish(); }

 private:
  ByteSink* next_;
  Sha256 hasher_;
};

// Pulls from another source, hashing and counting what passes.
class HashingSource : public ByteSource {
 public:
  explicit HashingSource(ByteSource* source) : source_(source) {}
  absl::StatusOr<absl::string_view> Read() override;
  uint64_t size() const { return hasher_.size(); }
  Digest Finish() { return hasher_.Finish(); }

 private:
  ByteSource* source_;
  Sha256 hasher_;
};

// Reads a file descriptor (not owned) in chunks of chunk_size.
class FdSource : public ByteSource {
 public:
  explicit FdSource(int fd, size_t chunk_size = 1 << 20) : fd_(fd), buffer_(chunk_size, '\0') {}
  absl::StatusOr<absl::string_view> Read() override;

 private:
  int fd_;
  std::string buffer_;
};

// Writes to a file descriptor (not owned).
class FdSink : public ByteSink {
 public:
  explicit FdSink(int fd) : fd_(fd) {}
  absl::Status Write(absl::string_view data) override;

 private:
  int fd_;
};

// Collects everything in memory: for tests and small payloads only.
class StringSink : public ByteSink {
 public:
  absl::Status Write(absl::string_view data) override {
    contents_.append(data.data(), data.size());
    return absl::OkStatus();
  }
  const std::string& contents() const { return contents_; }

 private:
  std::string contents_;
};

// Serves a string in chunks: for tests.
class StringSource : public ByteSource {
 public:
  explicit StringSource(std::string contents, size_t chunk_size = 64 << 10)
      : contents_(std::move(contents)), chunk_size_(chunk_size) {}
  absl::StatusOr<absl::string_view> Read() override;

 private:
  std::string contents_;
  size_t chunk_size_;
  size_t offset_ = 0;
};

// Collects small writes into chunks of about chunk_size before passing them on, so that the
// next stage (a network stream, say) sees few large writes.
class BufferingSink : public ByteSink {
 public:
  BufferingSink(ByteSink* next, size_t chunk_size) : next_(next), chunk_size_(chunk_size) {
    buffer_.reserve(chunk_size);
  }
  absl::Status Write(absl::string_view data) override;
  // Passes on what is buffered, then closes the next sink.
  absl::Status Close() override;

 private:
  ByteSink* next_;
  size_t chunk_size_;
  std::string buffer_;
};

}  // namespace strata::layer

#endif  // STRATA_LIB_LAYER_STREAM_H_
