#ifndef STRATA_SERVICES_LAYERSTORE_CORE_S3_INTERNAL_H_
#define STRATA_SERVICES_LAYERSTORE_CORE_S3_INTERNAL_H_

// Pieces of S3BlobStore shared by its source files (s3_blob_store.cc, s3_ingest_writer.cc,
// s3_blob_reader.cc). Not for use elsewhere.

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/strings/string_view.h"
#include "lib/s3/s3_client.h"
#include "services/layerstore/core/s3_blob_store.h"

namespace strata::layerstore {

// "upload \"<ref, escaped and cut>\"", as messages name uploads.
std::string S3UploadName(absl::string_view ref);

// Streams [offset, end) of an object with one GET on a thread of its own, through a queue of
// a few MiB; resumes the GET after a connection error (If-Match on etag).
std::unique_ptr<BlobRangeReader> MakeS3RangeReader(s3::S3Client* client, std::string key,
                                                   BlobInfo info, std::string etag, int64_t offset,
                                                   int64_t end);

// The writer of one leased upload: see s3_blob_store.h.
class S3IngestWriter final : public IngestWriter {
 public:
  // state's lease is held by `holder`; tail holds its tail_size bytes (hashed by the caller
  // into sha256, which covers everything up to state.offset()).
  S3IngestWriter(S3BlobStore* store, S3UploadState state, std::string holder, std::string tail,
                 ResumableSha256 sha256);
  ~S3IngestWriter() override;

  const std::string& ref() const override { return state_.ref; }
  int64_t offset() const override { return offset_; }
  const UploadExpectations& expected() const override { return state_.expected; }
  absl::Status Write(int64_t offset, std::string chunk) override;
  absl::StatusOr<CommitResult> Commit() override;

 private:
  // Stores the buffer as the next part (buffer must be a full part, or the last one).
  absl::Status FlushPart();  // mutex_ held
  // Stores the buffer as the tail object and records it in the state.
  absl::Status FlushTail();  // mutex_ held
  absl::Status SaveState();  // mutex_ held
  void Heartbeat();
  void StopHeartbeat();
  void Discard();
  absl::StatusOr<CommitResult> Publish(const Digest& digest);

  S3BlobStore* const store_;
  std::mutex mutex_;
  std::condition_variable wake_;
  S3UploadState state_;  // guarded by mutex_
  const std::string holder_;
  std::string buffer_;            // bytes after the parts; guarded by mutex_
  int64_t stored_tail_ = 0;       // bytes of buffer_ in the tail object; guarded by mutex_
  ResumableSha256 sha256_;        // of everything received; guarded by mutex_
  ResumableSha256 parts_sha256_;  // of the parts' bytes; guarded by mutex_
  int64_t offset_;
  absl::Time last_write_;     // guarded by mutex_
  absl::Time lease_written_;  // guarded by mutex_
  bool failed_ = false;       // guarded by mutex_
  bool finished_ = false;
  bool stopping_ = false;  // guarded by mutex_
  std::thread heartbeat_;
};

}  // namespace strata::layerstore

#endif  // STRATA_SERVICES_LAYERSTORE_CORE_S3_INTERNAL_H_
