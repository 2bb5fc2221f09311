#include "services/layerstore/core/blob_gc.h"

#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "lib/base/errors.h"

namespace strata::layerstore {

absl::StatusOr<GcReport> CollectGarbage(BlobStore& store, LeaseStore& leases,
                                        const ReferencedBlobs& referenced,
                                        const GcOptions& options) {
  if (!store.SupportsGarbageCollection()) {
    return absl::FailedPreconditionError(
        "garbage collection: this blob store backend cannot delete a blob only if no writer "
        "used it meanwhile, so collecting could delete a blob an image is being recorded with; "
        "it is supported on the fs backend");
  }
  GcReport report;
  report.dry_run = options.dry_run;
  // Blobs committed or touched from here on are kept whatever the marks say.
  const absl::Time start = absl::Now();

  std::vector<BlobInfo> candidates;
  std::optional<Digest> after;
  for (;;) {
    ASSIGN_OR_RETURN(BlobPage page, store.List(after, 1000));
    for (BlobInfo& blob : page.blobs) candidates.push_back(std::move(blob));
    if (!page.more || candidates.empty()) break;
    after = candidates.back().digest;
  }
  report.blobs_scanned = static_cast<int64_t>(candidates.size());

  // Leases first, then images (see the header).
  ASSIGN_OR_RETURN(std::vector<Lease> live, leases.ListLive(start));
  absl::flat_hash_set<std::string> leased;
  for (const Lease& lease : live) {
    for (const Digest& digest : lease.blobs) leased.insert(digest.str());
  }
  ASSIGN_OR_RETURN(absl::flat_hash_set<std::string> needed, referenced());

  for (const BlobInfo& blob : candidates) {
    if (needed.contains(blob.digest.str())) {
      ++report.kept_referenced;
      continue;
    }
    if (leased.contains(blob.digest.str())) {
      ++report.kept_leased;
      continue;
    }
    if (blob.created >= start - options.min_age) {
      ++report.kept_recent;
      continue;
    }
    if (options.dry_run) {
      report.removed.push_back(blob);
      report.bytes_removed += blob.size;
      continue;
    }
    absl::StatusOr<bool> deleted =
        store.DeleteIfUnusedSince(blob.digest, start - options.min_age);
    if (absl::IsNotFound(deleted.status())) continue;  // another collector was faster
    RETURN_IF_ERROR(deleted.status());
    if (!*deleted) {
      ++report.kept_recent;
      continue;
    }
    report.removed.push_back(blob);
    report.bytes_removed += blob.size;
  }
  if (!options.dry_run) {
    ASSIGN_OR_RETURN(int uploads, store.CleanUpAbandonedUploads(options.upload_grace));
    report.uploads_removed = uploads;
    ASSIGN_OR_RETURN(int expired, leases.RemoveExpired(start));
    report.leases_expired = expired;
  }
  return report;
}

}  // namespace strata::layerstore
