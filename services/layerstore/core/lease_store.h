#ifndef STRATA_SERVICES_LAYERSTORE_CORE_LEASE_STORE_H_
#define STRATA_SERVICES_LAYERSTORE_CORE_LEASE_STORE_H_

// Leases (containerd's model): a writer takes a lease with an expiry before it writes, names it
// on every write, and deletes it once what it wrote is recorded in imagegraph. Blobs and
// uploads named by a live lease are never collected by the blob GC (blob_gc.h); a lease whose
// writer died expires by itself. Leases are the store's own state, never one process's
// memory, so every replica of the layerstore sees the same ones.
//
// A lease id is 32 lowercase hex digits, chosen by the store. What a lease protects only grows
// (AddBlob, AddUpload) until the lease is deleted or expires.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "lib/digest/digest.h"

namespace strata::layerstore {

struct Lease {
  std::string id;
  absl::Time created;
  absl::Time expires;
  // What the lease protects: blob digests and upload refs written under it.
  std::vector<Digest> blobs;
  std::vector<std::string> uploads;
};

// INVALID_ARGUMENT unless id is 32 lowercase hex digits.
absl::Status ValidateLeaseId(const std::string& id);

class LeaseStore {
 public:
  virtual ~LeaseStore() = default;

  // A new lease that expires after ttl (> 0). Errors: INVALID_ARGUMENT (ttl <= 0), storage
  // errors.
  virtual absl::StatusOr<Lease> Create(absl::Duration ttl) = 0;

  // Moves the expiry of a live lease to now + ttl and returns the lease (without its
  // contents). Errors: INVALID_ARGUMENT (malformed id, ttl <= 0), NOT_FOUND (no such lease, or
  // it expired: what it protected may be collected already, so take a new one and write again).
  virtual absl::StatusOr<Lease> Renew(const std::string& id, absl::Duration ttl) = 0;

  // Releases a lease: what it protected is collectable unless something else references it.
  // Errors: INVALID_ARGUMENT, NOT_FOUND.
  virtual absl::Status Delete(const std::string& id) = 0;

  // Records that blob `digest` was (or is being) written under the lease. Durable on return,
  // and safe against concurrent adds to the same lease from other processes.
  // Errors: INVALID_ARGUMENT, NOT_FOUND (no such live lease).
  virtual absl::Status AddBlob(const std::string& id, const Digest& digest) = 0;

  // The same for an upload in progress (its ref).
  virtual absl::Status AddUpload(const std::string& id, const std::string& ref) = 0;

  // One lease with its contents. Errors: INVALID_ARGUMENT, NOT_FOUND (none, or expired).
  virtual absl::StatusOr<Lease> Get(const std::string& id) = 0;

  // Every lease live at `now`, with its contents. Errors: storage errors.
  virtual absl::StatusOr<std::vector<Lease>> ListLive(absl::Time now) = 0;

  // Removes leases that expired before `before` (and the debris of deleted ones) and returns
  // how many went. Errors: storage errors.
  virtual absl::StatusOr<int> RemoveExpired(absl::Time before) = 0;
};

}  // namespace strata::layerstore

#endif  // STRATA_SERVICES_LAYERSTORE_CORE_LEASE_STORE_H_
