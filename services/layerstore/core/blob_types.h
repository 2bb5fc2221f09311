#ifndef STRATA_SERVICES_LAYERSTORE_CORE_BLOB_TYPES_H_
#define STRATA_SERVICES_LAYERSTORE_CORE_BLOB_TYPES_H_

// Plain values the layerstore speaks in, shared by the store library (services/layerstore/core)
// and the client library (services/layerstore/client) so both hand out the same types. No gRPC
// and no file system here.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "lib/digest/digest.h"

namespace strata::layerstore {

// A stored blob.
struct BlobInfo {
  Digest digest;
  int64_t size = 0;
  // When the blob was committed.
  absl::Time created;
};

// The outcome of committing an upload.
struct CommitResult {
  Digest digest;
  int64_t size = 0;
  // When the blob was committed (by this upload, or by an earlier one when already_existed).
  absl::Time created;
  // True when the blob was already stored: nothing was written again.
  bool already_existed = false;
};

// What an upload must turn out to be; unset fields are not checked.
struct UploadExpectations {
  std::optional<Digest> digest;
  std::optional<int64_t> size;
};

// How far an upload in progress got.
struct UploadStatus {
  std::string ref;
  // Bytes received so far: resume by writing from this offset.
  int64_t offset = 0;
  UploadExpectations expected;
  absl::Time started;
  // When bytes last arrived.
  absl::Time updated;
};

// One page of blobs in digest order.
struct BlobPage {
  std::vector<BlobInfo> blobs;
  // True when blobs follow the last one of this page.
  bool more = false;
};

// A blob a scrub found damaged.
struct DamagedBlob {
  Digest digest;
  int64_t size = 0;
  // Why it failed verification (the DATA_LOSS message).
  std::string reason;
  // Where the store moved it (empty when quarantining failed: quarantine_error says why).
  std::string quarantined_to;
  std::string quarantine_error;
};

struct ScrubReport {
  int64_t blobs_checked = 0;
  int64_t bytes_checked = 0;
  std::vector<DamagedBlob> damaged;
};

// What one blob garbage collection did (blob_gc.h).
struct GcReport {
  int64_t blobs_scanned = 0;
  // Kept because an image references them, a live lease names them, or a writer used them
  // after the collection started.
  int64_t kept_referenced = 0;
  int64_t kept_leased = 0;
  int64_t kept_recent = 0;
  // Removed (or, in a dry run, that would be).
  std::vector<BlobInfo> removed;
  int64_t bytes_removed = 0;
  int64_t uploads_removed = 0;
  int64_t leases_expired = 0;
  bool dry_run = false;
};

}  // namespace strata::layerstore

#endif  // STRATA_SERVICES_LAYERSTORE_CORE_BLOB_TYPES_H_
