#ifndef STRATA_SERVICES_LAYERSTORE_CORE_BLOB_STORE_H_
#define STRATA_SERVICES_LAYERSTORE_CORE_BLOB_STORE_H_

// The layerstore's storage interface: content-addressed blobs, uploads that stream, resume and
// are verified before they become visible. No gRPC here: plain C++ values and absl::Status, so
// the service adapter, tools and tests share it, and another backend (object storage) can be
// added by implementing BlobStore. blob_store_conformance.h holds the tests every
// implementation must pass.
//
// Every digest given to a BlobStore has been validated by Digest::Parse; refs are arbitrary
// bytes chosen by clients and never become paths or object names as they are.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "lib/digest/digest.h"
#include "services/layerstore/core/blob_types.h"

namespace strata::layerstore {

// Refs are at most this long (bytes).
inline constexpr size_t kMaxRefLength = 256;

// Streams one range of a stored blob. The range stays readable to its end even when the blob is
// deleted meanwhile.
class BlobRangeReader {
 public:
  virtual ~BlobRangeReader() = default;

  // The blob being read (its whole size, not the range's).
  virtual const BlobInfo& info() const = 0;
  // Offset within the blob of the next byte Read returns.
  virtual int64_t position() const = 0;
  // Bytes of the range not read yet.
  virtual int64_t remaining() const = 0;

  // Copies up to `capacity` next bytes of the range into buffer and returns how many; 0 at the
  // end of the range. Errors: INTERNAL/DATA_LOSS and the like from the storage.
  virtual absl::StatusOr<size_t> Read(char* buffer, size_t capacity) = 0;
};

// Writes one upload (an "ingest"), held exclusively: no other writer of the same ref, in this
// process or another one on the same storage, exists at the same time. Destroying the writer
// without Commit keeps what was written so that a later OpenWriter of the same ref resumes.
class IngestWriter {
 public:
  virtual ~IngestWriter() = default;

  virtual const std::string& ref() const = 0;
  // Bytes received so far: the offset the next Write must start at.
  virtual int64_t offset() const = 0;
  virtual const UploadExpectations& expected() const = 0;

  // Appends chunk, which must start at `offset`. The writer takes the chunk so that it can hash
  // and store it concurrently, without a copy and without making the caller wait: a storage
  // error may be reported by a later Write or by Commit.
  // Errors: INVALID_ARGUMENT (offset is not offset(): the message names the expected offset;
  // the chunk runs past the expected size), FAILED_PRECONDITION (the writer was committed or
  // failed before), storage errors (after which the writer is unusable; the upload keeps the
  // bytes that reached storage and can be resumed).
  virtual absl::Status Write(int64_t offset, std::string chunk) = 0;

  // Verifies size and digest against the expectations and makes the blob visible atomically
  // and durably. A blob already stored is not written again (already_existed). After Commit,
  // successful or not, the writer is finished.
  // Errors: INVALID_ARGUMENT (size or digest mismatch: the message names expected and actual,
  // and the upload is discarded), FAILED_PRECONDITION (already committed or failed), storage
  // errors.
  virtual absl::StatusOr<CommitResult> Commit() = 0;
};

class BlobStore {
 public:
  virtual ~BlobStore() = default;

  // Size and commit time of a blob.
  // Errors: NOT_FOUND (message: blob "<digest>": not found).
  virtual absl::StatusOr<BlobInfo> Stat(const Digest& digest) = 0;

  // Opens `length` bytes of a blob from `offset` (length 0: to the end; a range running past
  // the end stops at the end). A read of the whole blob (offset 0 to the end) is verified as
  // it streams (blob_verify.h): its last Read fails with DATA_LOSS, instead of returning the
  // last bytes, when the stored bytes do not match the digest. A range cannot be verified.
  // Errors: INVALID_ARGUMENT (negative offset or length, offset past the end), NOT_FOUND,
  // DATA_LOSS (an empty stored blob whose digest is not that of no bytes).
  virtual absl::StatusOr<std::unique_ptr<BlobRangeReader>> OpenReader(const Digest& digest,
                                                                      int64_t offset,
                                                                      int64_t length) = 0;

  // Starts the upload `ref`, or resumes it when it exists (then writer->offset() says where).
  // Errors: INVALID_ARGUMENT (empty ref or longer than kMaxRefLength, negative expected size),
  // ABORTED (another writer holds this ref right now: retry later), FAILED_PRECONDITION (an
  // expectation differs from one the upload being resumed has; one it lacks is added and
  // checked from then on), ALREADY_EXISTS (the expected
  // digest is already stored, with the expected size if one is given, and its stored copy
  // verifies: nothing needs to be written, and any upload left under this ref is discarded).
  // A stored copy that fails verification is quarantined and the upload goes ahead; likewise
  // Commit replaces a damaged copy instead of reporting already_existed.
  virtual absl::StatusOr<std::unique_ptr<IngestWriter>> OpenWriter(
      const std::string& ref, const UploadExpectations& expected) = 0;

  // How far the upload `ref` got: the bytes stored so far, from which a new writer resumes.
  // Works while it is being written (a writer may hold a few chunks it has not stored yet).
  // Errors: INVALID_ARGUMENT (empty or too long ref), NOT_FOUND (no upload with this ref).
  virtual absl::StatusOr<UploadStatus> GetUploadStatus(const std::string& ref) = 0;

  // Discards the upload `ref`.
  // Errors: INVALID_ARGUMENT (empty or too long ref), NOT_FOUND, ABORTED (a writer holds it).
  virtual absl::Status AbortUpload(const std::string& ref) = 0;

  // Removes a blob; readers that opened it already read it to the end.
  // Errors: NOT_FOUND.
  virtual absl::Status Delete(const Digest& digest) = 0;

  // Takes a damaged blob out of service without deleting it: it is no longer listed, read or
  // counted as stored (so the next upload of its digest writes it again), and it is kept
  // where a person can look at it. Returns where it went (a path, an object name).
  // Errors: NOT_FOUND, storage errors.
  virtual absl::StatusOr<std::string> Quarantine(const Digest& digest) = 0;

  // Up to `limit` (> 0) blobs in digest order, starting after `after` (from the first blob
  // when unset). The order is stable: paging by the last digest of each page visits every blob
  // that exists throughout, once.
  // Errors: INVALID_ARGUMENT (limit < 1).
  virtual absl::StatusOr<BlobPage> List(const std::optional<Digest>& after, int limit) = 0;

  // Discards uploads that no writer holds and that received nothing for max_age, and returns
  // how many. Errors: storage errors.
  virtual absl::StatusOr<int> CleanUpAbandonedUploads(absl::Duration max_age) = 0;

  // What the blob garbage collector (blob_gc.h) needs of a backend: a way to tell a blob that
  // a writer just used (deduplicated against, or committed) from one that sat unused, and to
  // delete a blob only if no writer used it since a given time, atomically with respect to
  // Touch. Backends that cannot keep that promise leave these as they are: GC then refuses to
  // run on them (FAILED_PRECONDITION) rather than risk a blob an image is being recorded with.
  virtual bool SupportsGarbageCollection() const { return false; }

  // Marks a stored blob as used now. Errors: NOT_FOUND (not stored: a collector took it, so
  // write it again), FAILED_PRECONDITION (not supported), storage errors.
  virtual absl::Status Touch(const Digest& digest) {
    return absl::FailedPreconditionError("this blob store backend does not support Touch");
  }

  // Deletes the blob unless it was committed or touched at or after `unused_since`; returns
  // whether it was deleted (false: kept, as a writer used it). A Touch that returned OK before
  // this call decides is always seen. Errors: NOT_FOUND, FAILED_PRECONDITION (not supported),
  // storage errors.
  virtual absl::StatusOr<bool> DeleteIfUnusedSince(const Digest& digest, absl::Time unused_since) {
    return absl::FailedPreconditionError(
        "this blob store backend does not support garbage collection");
  }
};

}  // namespace strata::layerstore

#endif  // STRATA_SERVICES_LAYERSTORE_CORE_BLOB_STORE_H_
