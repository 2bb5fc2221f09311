#ifndef STRATA_SERVICES_LAYERSTORE_CORE_BLOB_GC_H_
#define STRATA_SERVICES_LAYERSTORE_CORE_BLOB_GC_H_

// Blob garbage collection: mark what images (imagegraph) and live leases need, sweep the rest
// of the store, and discard abandoned uploads. Safe with concurrent writers on any replica:
//
//   1. start = now; list every blob (the candidates).
//   2. read the live leases, THEN the referenced set. A writer records its image before it
//      deletes its lease, so a blob is in one of the two reads whenever its writer finished
//      either step before the reads: read in the other order, a writer could record and
//      release between them and its blob would be in neither.
//   3. for each candidate in neither set and committed over min_age before the start:
//      DeleteIfUnusedSince(start - min_age). min_age covers the moment between a Write's
//      commit and its recording the blob under its lease; a blob committed after the listing
//      is no candidate; a blob written again (deduplicated) under a lease taken
//      after step 2 was touched by the layerstore's Write before it reported the blob stored,
//      so the conditional delete keeps it, or the Write found it gone and had it written again.
//
// Errors: FAILED_PRECONDITION (the backend cannot delete conditionally: see
// BlobStore::SupportsGarbageCollection), what `referenced` returns (UNAVAILABLE when imagegraph
// cannot be reached: nothing is deleted then), storage errors.

#include <functional>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/layerstore/core/blob_store.h"
#include "services/layerstore/core/lease_store.h"

namespace strata::layerstore {

// Every digest ("sha256:<hex>") an image still needs: layer blobs, configs, kept variants.
using ReferencedBlobs = std::function<absl::StatusOr<absl::flat_hash_set<std::string>>()>;

struct GcOptions {
  // Uploads that received nothing for this long are discarded.
  absl::Duration upload_grace = absl::Hours(1);
  // Report what would be removed, remove nothing.
  bool dry_run = false;
  // Blobs committed less than this before the collection started are kept: the time a
  // writer's Write has to record a blob it just committed under its lease (a few fsyncs).
  absl::Duration min_age = absl::Minutes(1);
};

absl::StatusOr<GcReport> CollectGarbage(BlobStore& store, LeaseStore& leases,
                                        const ReferencedBlobs& referenced,
                                        const GcOptions& options);

}  // namespace strata::layerstore

#endif  // STRATA_SERVICES_LAYERSTORE_CORE_BLOB_GC_H_
