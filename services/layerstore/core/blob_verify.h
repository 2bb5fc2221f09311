#ifndef STRATA_SERVICES_LAYERSTORE_CORE_BLOB_VERIFY_H_
#define STRATA_SERVICES_LAYERSTORE_CORE_BLOB_VERIFY_H_

// Checking stored blobs against their digests, for any BlobStore: bytes change on disks and
// in buckets after they were verified at commit (a flipped bit, a truncated file), and a
// content-addressed store must never hand them out as the blob.
//
//  - VerifyingReader hashes a whole-blob read as it streams and ends it with DATA_LOSS instead
//    of its last bytes when the digest does not match. A range cannot be verified (the
//    digest covers the whole blob only): ranges are served as stored.
//  - VerifyBlob re-hashes one blob (the dedupe path of an upload uses it: a damaged copy is
//    replaced, not kept as "already exists").
//  - ScrubBlobs re-hashes every blob and quarantines the damaged ones.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "lib/digest/digest.h"
#include "services/layerstore/core/blob_store.h"

namespace strata::layerstore {

// Wraps a reader of a whole blob (offset 0 to its end): the Read that reaches the end checks
// the digest of everything read and returns DATA_LOSS (naming the blob, the digest its bytes
// have and what to do) instead of the last chunk when it differs.
// Errors: DATA_LOSS at once for an empty blob whose digest is not that of no bytes (it has no
// Read to fail).
absl::StatusOr<std::unique_ptr<BlobRangeReader>> VerifyingReader(
    std::unique_ptr<BlobRangeReader> whole);

// The DATA_LOSS of a blob whose stored bytes have digest `actual`.
absl::Status DamagedBlobError(const BlobInfo& blob, const Digest& actual);

// Reads the whole blob and checks its digest.
// Errors: NOT_FOUND, DATA_LOSS (the bytes have another digest, or the blob is shorter than
// its size), storage errors.
absl::Status VerifyBlob(BlobStore& store, const Digest& digest);

// ScrubReport and DamagedBlob are in blob_types.h (the client returns them too).

// Re-hashes every stored blob, page by page, and moves each damaged one to quarantine (out
// of service, not deleted). Blobs deleted meanwhile are skipped. `after_each`, when set, is
// called with the report so far after each blob (to report progress, or to stop: its error
// ends the scrub and is returned).
// Errors: those of after_each, storage errors of List and reads (not DATA_LOSS: that is a
// finding).
absl::StatusOr<ScrubReport> ScrubBlobs(
    BlobStore& store, const std::function<absl::Status(const ScrubReport&)>& after_each = nullptr);

}  // namespace strata::layerstore

#endif  // STRATA_SERVICES_LAYERSTORE_CORE_BLOB_VERIFY_H_
