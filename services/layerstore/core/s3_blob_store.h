#ifndef STRATA_SERVICES_LAYERSTORE_CORE_S3_BLOB_STORE_H_
#define STRATA_SERVICES_LAYERSTORE_CORE_S3_BLOB_STORE_H_

// S3BlobStore keeps blobs in an S3-compatible bucket, so that layerstore replicas on many hosts
// share one store and keep nothing in memory another replica needs:
//
//   <prefix>blobs/sha256/<64 hex>            committed blobs (Last-Modified = commit time)
//   <prefix>uploads/<sha256 of ref>/state    JSON (S3UploadState): expectations, the multipart
//                                            upload and its parts, the saved hash, the lease
//   <prefix>uploads/<sha256 of ref>/tail     bytes after the last full part
//   <prefix>uploads/<sha256 of ref>/data     the multipart upload's key when the digest was
//                                            not known at its start
//   <prefix>quarantine/sha256/<hex>.<ns>     blobs found damaged
//
// Uploads. Bytes are hashed as they arrive and buffered up to one part (part_size); each full
// part goes to a multipart upload and the state object is rewritten, so any replica can
// resume from the end of the last part. Bytes past it reach the tail object when the writer
// goes away, or after it has been idle for a moment (so GetUploadStatus sees them). When the
// upload expects a digest, its multipart upload is created for the final key
// blobs/sha256/<hex> itself: parts are invisible until CompleteMultipartUpload, which runs only
// after the digest was verified, so nothing is copied. Without an expected digest the parts go
// to uploads/<ref>/data; at commit, once verified, that object is copied server-side to the
// final key (one atomic PUT-copy: at most 5 GiB on S3 and Swift) and removed. A blob that fits
// in one part is PUT under its final name at commit. Either way a blob appears only whole
// and verified.
//
// One writer per ref. In one process a table of held refs answers ABORTED at once. Across
// replicas the state object carries a lease (holder token and expiry, renewed by the writer
// every lease_ttl/3): a live lease held by another writer is ABORTED; taking a lease is a
// write followed, after lease_settle, by a read that must still show our token (S3 and Swift's
// s3api have no conditional PUT, so two replicas taking the same free lease within
// lease_settle of each other is the one race left: the later write wins and the earlier one
// sees that on its read-back). A writer whose process died holds its lease until it expires;
// then any replica resumes from the last part stored.
//
// Reads are one streamed GET per range (with If-Match on the ETag when resumed after a
// connection error), so a range stays readable when the blob is deleted meanwhile, as far as
// the server keeps an open object (Swift does).

#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "lib/s3/s3_client.h"
#include "services/layerstore/core/blob_store.h"
#include "services/layerstore/core/s3_upload_state.h"

namespace strata::layerstore {

class S3BlobStore final : public BlobStore {
 public:
  struct Options {
    // Bytes of each multipart part but the last (S3 and Swift need at least 5 MiB).
    int64_t part_size = 16 << 20;
    // Prepended to every key (e.g. "layerstore/"), so one bucket can hold other things too.
    std::string prefix;
    // A writer's lease: how long a replica that died keeps its uploads from others.
    absl::Duration lease_ttl = absl::Seconds(30);
    // Wait between taking a lease and reading it back (see above).
    absl::Duration lease_settle = absl::Milliseconds(30);
    // A writer with unstored bytes that received nothing for this long stores them.
    absl::Duration idle_flush = absl::Milliseconds(200);
  };

  // Checks that the bucket exists and the credentials may use it (HEAD bucket), so wrong
  // credentials are reported at start, not at the first write.
  // Errors: INVALID_ARGUMENT (part size below 1 MiB), UNAUTHENTICATED (S3 refused the key or
  // signature), PERMISSION_DENIED, NOT_FOUND (no such bucket), UNAVAILABLE (no answer).
  static absl::StatusOr<std::unique_ptr<S3BlobStore>> Open(std::unique_ptr<s3::S3Client> client,
                                                           const Options& options);

  absl::StatusOr<BlobInfo> Stat(const Digest& digest) override;
  absl::StatusOr<std::unique_ptr<BlobRangeReader>> OpenReader(const Digest& digest, int64_t offset,
                                                              int64_t length) override;
  absl::StatusOr<std::unique_ptr<IngestWriter>> OpenWriter(
      const std::string& ref, const UploadExpectations& expected) override;
  absl::StatusOr<UploadStatus> GetUploadStatus(const std::string& ref) override;
  absl::Status AbortUpload(const std::string& ref) override;
  absl::Status Delete(const Digest& digest) override;
  absl::StatusOr<std::string> Quarantine(const Digest& digest) override;
  absl::StatusOr<BlobPage> List(const std::optional<Digest>& after, int limit) override;
  absl::StatusOr<int> CleanUpAbandonedUploads(absl::Duration max_age) override;

  std::string BlobKey(const Digest& digest) const;
  // <prefix>uploads/<sha256 of ref>/
  std::string UploadPrefix(const std::string& ref) const;
  s3::S3Client& client() { return *client_; }
  const Options& options() const { return options_; }

 private:
  friend class S3IngestWriter;

  S3BlobStore(std::unique_ptr<s3::S3Client> client, const Options& options);

  // The state of upload `ref`. Errors: NOT_FOUND (none, or damaged), storage errors.
  absl::StatusOr<S3UploadState> ReadState(const std::string& ref);
  absl::Status WriteState(const S3UploadState& state);
  // Takes the lease of `state` for `holder` (write, settle, read back).
  // Errors: ABORTED (another writer holds it or won the race), storage errors.
  absl::Status TakeLease(S3UploadState& state, const std::string& holder);
  // Removes everything of an upload (its multipart upload, tail, data and state).
  absl::Status RemoveUpload(const S3UploadState& state);
  // See FsBlobStore::CheckStoredCopy.
  absl::Status CheckStoredCopy(const Digest& digest, const std::string& ref);
  // In-process exclusivity: false when `ref` is held by a writer of this process already.
  bool HoldRef(const std::string& ref);
  void ReleaseRef(const std::string& ref);
  // The in-process key of a ref (bucket, prefix and ref), shared by stores over one bucket.
  std::string HoldKey(const std::string& ref) const;

  std::unique_ptr<s3::S3Client> client_;
  const Options options_;
};

}  // namespace strata::layerstore

#endif  // STRATA_SERVICES_LAYERSTORE_CORE_S3_BLOB_STORE_H_
