#ifndef STRATA_SERVICES_LAYERSTORE_CORE_FS_BLOB_STORE_H_
#define STRATA_SERVICES_LAYERSTORE_CORE_FS_BLOB_STORE_H_

// FsBlobStore keeps blobs in a directory:
//
//   <root>/blobs/sha256/<first 2 hex>/<64 hex>   committed blobs, read-only, mtime = commit time
//   <root>/ingest/<sha256 hex of the ref>/data   bytes of an upload received so far
//   <root>/ingest/<sha256 hex of the ref>/meta   JSON: ref, expectations, start time
//   <root>/ingest/.tmp-<random>/                 an upload directory being created
//   <root>/quarantine/sha256/<64 hex>.<unix ns>  blobs found damaged: out of service, kept
//   <root>/gc/<64 hex>.<random>                  a blob the garbage collector is deleting
//   <root>/leases/                               leases (fs_lease_store.h), not this class's
//
// Paths are built only from validated digests and from hashes of refs, so no client input can
// name a path outside the root. Uploads are hashed, written and synced as they arrive (each on
// a ChunkWorker thread of its own), committed by fsync + rename into place + fsync of the
// directory, and locked with flock(2) on their data file, so two processes sharing the
// directory (replicas of the service) never write the same upload at once. No state is kept
// in memory between calls.

#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "services/layerstore/core/blob_store.h"

namespace strata::layerstore {

class FsBlobStore final : public BlobStore {
 public:
  struct Options {
    // Bytes of received chunks that may wait for each of an upload's two threads (hashing and
    // writing): with 1 MiB chunks, a few are enough to keep both busy.
    size_t max_queued_bytes = 4 << 20;
    // Start writing an upload's data back to disk every this many bytes (asynchronously), so
    // that dirty pages stay few. 0: leave it to the kernel.
    int64_t writeback_interval_bytes = 8 << 20;
    // Make an upload durable as it goes: fdatasync every this many bytes (on a thread of its
    // own, while the next bytes arrive and are written), so the fsync at commit has only the
    // last interval left. Flushing takes time in proportion to the data (about 0.4 s per GiB here):
    // at commit it would add to every upload's latency. 0: all at commit.
    int64_t sync_interval_bytes = 64 << 20;
    // Let blobs stream past the page cache: an upload drops its pages once they are synced,
    // and a read drops behind it the pages it had to bring in from disk (pages that were
    // cached stay). Layers pass through once, so caching them would only evict what other
    // work keeps hot; and the same few pages are reused over and over, which matters where
    // fresh page-cache pages are expensive (in a virtual machine each new page can cost the
    // host a fault: buffered writes of cold pages ran at a third of the disk's speed here).
    bool stream_past_page_cache = true;
  };

  // Opens the store in root, creating root, blobs/sha256/ and ingest/ when missing.
  // Errors: INVALID_ARGUMENT (empty root), file-system errors (PERMISSION_DENIED, ...).
  static absl::StatusOr<std::unique_ptr<FsBlobStore>> Open(const std::string& root);
  static absl::StatusOr<std::unique_ptr<FsBlobStore>> Open(const std::string& root,
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
  bool SupportsGarbageCollection() const override { return true; }
  // Sets the blob's atime to now (its mtime stays the commit time).
  absl::Status Touch(const Digest& digest) override;
  // Renames the blob into <root>/gc/ (out of service at once), then reads its mtime there: one
  // touched since is renamed back, else unlinked. A Touch before the rename shows in that
  // mtime; one after it finds no blob (NOT_FOUND), so its writer writes the blob again.
  absl::StatusOr<bool> DeleteIfUnusedSince(const Digest& digest,
                                           absl::Time unused_since) override;

  const std::string& root() const { return root_; }
  // Where a blob lives: <root>/blobs/sha256/<2 hex>/<hex>.
  std::string BlobPath(const Digest& digest) const;
  // The directory of the upload `ref`: <root>/ingest/<sha256 hex of ref>.
  std::string UploadDir(const std::string& ref) const;

 private:
  friend class FsIngestWriter;
  struct LockedUpload;

  FsBlobStore(std::string root, const Options& options);

  absl::StatusOr<LockedUpload> LockExistingUpload(const std::string& ref);
  absl::StatusOr<LockedUpload> CreateUpload(const std::string& ref,
                                            const UploadExpectations& expected);
  // Removes an upload directory whose lock the caller holds.
  absl::Status RemoveUploadDir(const std::string& dir);
  // For an upload of `digest`, which is stored already: OK when the stored copy verifies
  // (nothing to write); NOT_FOUND when it is not stored (any more), also after moving a
  // damaged copy to quarantine so that the upload replaces it; other errors as they come.
  absl::Status CheckStoredCopy(const Digest& digest, const std::string& ref);
  // Moves a verified upload's data file into place as blob `digest`.
  absl::StatusOr<CommitResult> Publish(LockedUpload& upload, const Digest& digest, int64_t size);

  const std::string root_;
  const std::string blobs_dir_;       // <root>/blobs/sha256
  const std::string ingest_dir_;      // <root>/ingest
  const std::string quarantine_dir_;  // <root>/quarantine/sha256
  const Options options_;
};

}  // namespace strata::layerstore

#endif  // STRATA_SERVICES_LAYERSTORE_CORE_FS_BLOB_STORE_H_
