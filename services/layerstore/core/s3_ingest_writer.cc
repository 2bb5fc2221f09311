// S3BlobStore's writer: parts of a multipart upload, the tail object, the lease heartbeat and
// the verified commit (see s3_blob_store.h).

#include <algorithm>
#include <array>
#include <functional>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "lib/base/errors.h"
#include "lib/base/log.h"
#include "services/layerstore/core/s3_internal.h"

namespace strata::layerstore {
namespace {

// Commits of one digest in this process take turns (an upload checks whether the blob is
// stored, then stores it): the same bytes uploaded under two refs at once are stored once.
// Across replicas two such commits may both store the blob; the bytes are the same.
std::mutex& PublishMutex(const Digest& digest) {
  static std::array<std::mutex, 64> mutexes;
  return mutexes[std::hash<std::string>()(digest.str()) % mutexes.size()];
}

}  // namespace

S3IngestWriter::S3IngestWriter(S3BlobStore* store, S3UploadState state, std::string holder,
                               std::string tail, ResumableSha256 sha256)
    : store_(store),
      state_(std::move(state)),
      holder_(std::move(holder)),
      buffer_(std::move(tail)),
      stored_tail_(static_cast<int64_t>(buffer_.size())),
      sha256_(sha256),
      offset_(state_.offset()),
      last_write_(absl::Now()),
      lease_written_(absl::Now()) {
  if (!state_.parts_hash.empty()) (void)parts_sha256_.Restore(state_.parts_hash);
  heartbeat_ = std::thread([this] { Heartbeat(); });
}

S3IngestWriter::~S3IngestWriter() {
  StopHeartbeat();
  if (!finished_) {
    std::lock_guard<std::mutex> lock(mutex_);
    // Bytes that arrived are worth keeping for a resume; then the lease is given back.
    absl::Status status = failed_ ? absl::OkStatus() : FlushTail();
    state_.holder.clear();
    state_.lease_until = absl::InfinitePast();
    if (status.ok()) status = store_->WriteState(state_);
    if (!status.ok()) {
      STRATA_LOG(WARNING) << S3UploadName(ref())
                          << ": keeping it for a resume failed: " << status.message();
    }
  }
  store_->ReleaseRef(state_.ref);
}

void S3IngestWriter::StopHeartbeat() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (heartbeat_.joinable()) heartbeat_.join();
}

void S3IngestWriter::Heartbeat() {
  const S3BlobStore::Options& options = store_->options();
  const absl::Duration renew = options.lease_ttl / 3;
  const absl::Duration tick = std::min(renew, options.idle_flush);
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    wake_.wait_for(lock, absl::ToChronoMilliseconds(tick));
    if (stopping_ || failed_) continue;
    const absl::Time now = absl::Now();
    absl::Status status;
    if (static_cast<int64_t>(buffer_.size()) > stored_tail_ &&
        now - last_write_ >= options.idle_flush) {
      status = FlushTail();  // renews the lease too
    } else if (now - lease_written_ >= renew) {
      status = SaveState();
    }
    if (!status.ok()) {
      STRATA_LOG(WARNING) << S3UploadName(ref()) << ": " << status.message();
    }
  }
}

absl::Status S3IngestWriter::SaveState() {
  state_.holder = holder_;
  state_.lease_until = absl::Now() + store_->options().lease_ttl;
  RETURN_IF_ERROR(store_->WriteState(state_));
  lease_written_ = absl::Now();
  return absl::OkStatus();
}

absl::Status S3IngestWriter::FlushPart() {
  s3::S3Client& client = store_->client();
  if (state_.upload_id.empty()) {
    // With the digest known, the parts go straight to the blob's name: invisible until the
    // commit completes them, after verifying.
    state_.mpu_key = state_.expected.digest ? store_->BlobKey(*state_.expected.digest)
                                            : store_->UploadPrefix(state_.ref) + "data";
    ASSIGN_OR_RETURN(state_.upload_id, client.CreateMultipartUpload(state_.mpu_key));
  }
  const int number = static_cast<int>(state_.parts.size()) + 1;
  ASSIGN_OR_RETURN(std::string etag,
                   client.UploadPart(state_.mpu_key, state_.upload_id, number, buffer_));
  state_.parts.push_back(S3Part{number, std::move(etag), static_cast<int64_t>(buffer_.size())});
  state_.parts_bytes += static_cast<int64_t>(buffer_.size());
  parts_sha256_ = sha256_;
  state_.parts_hash = parts_sha256_.Save();
  state_.tail_size = 0;
  state_.updated = absl::Now();
  buffer_.clear();
  stored_tail_ = 0;
  return SaveState();
}

absl::Status S3IngestWriter::FlushTail() {
  if (static_cast<int64_t>(buffer_.size()) == stored_tail_) return absl::OkStatus();
  // The tail first, then the state that counts it: a state never counts bytes not stored.
  RETURN_IF_ERROR(store_->client().Put(store_->UploadPrefix(state_.ref) + "tail", buffer_));
  state_.tail_size = static_cast<int64_t>(buffer_.size());
  state_.updated = absl::Now();
  stored_tail_ = state_.tail_size;
  return SaveState();
}

absl::Status S3IngestWriter::Write(int64_t offset, std::string chunk) {
  if (finished_) {
    return absl::FailedPreconditionError(
        absl::StrCat(S3UploadName(ref()), ": the writer was committed or failed"));
  }
  if (offset != offset_) {
    return absl::InvalidArgumentError(absl::StrCat(S3UploadName(ref()), ": chunk at offset ",
                                                   offset, ", expected offset ", offset_));
  }
  if (chunk.empty()) return absl::OkStatus();
  const int64_t size = static_cast<int64_t>(chunk.size());
  if (state_.expected.size && offset_ + size > *state_.expected.size) {
    return absl::InvalidArgumentError(
        absl::StrCat(S3UploadName(ref()), ": chunk at offset ", offset, " of ", size,
                     " bytes runs past the expected size of ", *state_.expected.size, " bytes"));
  }
  std::lock_guard<std::mutex> lock(mutex_);
  const size_t part_size = static_cast<size_t>(store_->options().part_size);
  absl::string_view rest = chunk;
  while (!rest.empty()) {
    const absl::string_view piece = rest.substr(0, part_size - buffer_.size());
    sha256_.Update(piece.data(), piece.size());
    buffer_.append(piece.data(), piece.size());
    rest.remove_prefix(piece.size());
    if (buffer_.size() == part_size) {
      if (absl::Status status = FlushPart(); !status.ok()) {
        // What reached storage stays: a new writer resumes from the last part stored.
        failed_ = true;
        finished_ = true;
        return Annotate(status, S3UploadName(ref()));
      }
    }
  }
  offset_ += size;
  last_write_ = absl::Now();
  return absl::OkStatus();
}

void S3IngestWriter::Discard() {
  if (absl::Status removed = store_->RemoveUpload(state_); !removed.ok()) {
    STRATA_LOG(WARNING) << S3UploadName(ref()) << ": discarding failed: " << removed.message();
  }
}

absl::StatusOr<CommitResult> S3IngestWriter::Commit() {
  if (finished_) {
    return absl::FailedPreconditionError(
        absl::StrCat(S3UploadName(ref()), ": the writer was committed or failed"));
  }
  finished_ = true;
  StopHeartbeat();
  std::lock_guard<std::mutex> lock(mutex_);
  const Digest actual = sha256_.Finish();
  const UploadExpectations& expected = state_.expected;
  if (expected.size && offset_ != *expected.size) {
    Discard();
    return absl::InvalidArgumentError(
        absl::StrCat(S3UploadName(ref()), ": size mismatch: expected ", *expected.size,
                     " bytes, got ", offset_, "; the upload was discarded"));
  }
  if (expected.digest && actual != *expected.digest) {
    Discard();
    return absl::InvalidArgumentError(
        absl::StrCat(S3UploadName(ref()), ": digest mismatch: expected ", expected.digest->str(),
                     ", actual ", actual.str(), "; the upload was discarded"));
  }
  absl::StatusOr<CommitResult> result = Publish(actual);
  if (!result.ok()) {
    // Keep the upload for a retry of the commit through a new writer; give the lease back.
    state_.holder.clear();
    state_.lease_until = absl::InfinitePast();
    (void)store_->WriteState(state_);
    return Annotate(result.status(), S3UploadName(ref()));
  }
  return result;
}

absl::StatusOr<CommitResult> S3IngestWriter::Publish(const Digest& digest) {
  s3::S3Client& client = store_->client();
  const std::string key = store_->BlobKey(digest);
  std::lock_guard<std::mutex> publishing(PublishMutex(digest));
  absl::StatusOr<s3::ObjectInfo> stored = client.Head(key);
  if (stored.ok()) {
    Discard();
    return CommitResult{digest, stored->size, stored->last_modified, /*already_existed=*/true};
  }
  if (!absl::IsNotFound(stored.status())) return stored.status();

  if (state_.upload_id.empty()) {
    // Everything fits in one part: one PUT under the final name.
    RETURN_IF_ERROR(client.Put(key, buffer_));
  } else {
    if (!buffer_.empty()) {
      const int number = static_cast<int>(state_.parts.size()) + 1;
      ASSIGN_OR_RETURN(std::string etag,
                       client.UploadPart(state_.mpu_key, state_.upload_id, number, buffer_));
      state_.parts.push_back(S3Part{number, std::move(etag), static_cast<int64_t>(buffer_.size())});
    }
    std::vector<s3::CompletedPart> parts;
    for (const S3Part& part : state_.parts) parts.push_back({part.number, part.etag});
    absl::Status completed =
        client.CompleteMultipartUpload(state_.mpu_key, state_.upload_id, parts);
    if (absl::IsNotFound(completed)) {
      // A retried completion whose first attempt went through (the answer was lost): the
      // object is there, with every byte of the parts.
      absl::StatusOr<s3::ObjectInfo> done = client.Head(state_.mpu_key);
      if (done.ok() && done->size == offset_) completed = absl::OkStatus();
    }
    RETURN_IF_ERROR(completed);
    if (state_.mpu_key != key) {
      // Verified under the upload's own name: now one atomic copy to the final name.
      RETURN_IF_ERROR(client.Copy(state_.mpu_key, key));
      (void)client.Delete(state_.mpu_key);
    }
    state_.upload_id.clear();
  }
  ASSIGN_OR_RETURN(s3::ObjectInfo info, client.Head(key));
  Discard();  // the tail and state objects
  return CommitResult{digest, info.size, info.last_modified, /*already_existed=*/false};
}

}  // namespace strata::layerstore
