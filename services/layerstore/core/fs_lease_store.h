#ifndef STRATA_SERVICES_LAYERSTORE_CORE_FS_LEASE_STORE_H_
#define STRATA_SERVICES_LAYERSTORE_CORE_FS_LEASE_STORE_H_

// Leases in the store directory, shared by every replica that serves it:
//
//   <root>/leases/<id>/lease          JSON {created, expires} (unix ns), replaced atomically
//   <root>/leases/<id>/blob-<hex>     one per blob written under the lease (empty)
//   <root>/leases/<id>/upload-<hash>  one per upload (holds the ref)
//
// Each thing a lease protects is a file of its own, created atomically, so concurrent writes
// under one lease (a pull's parallel layers, on any replica) never lose one another's entries
// and need no lock. A directory without its `lease` file is a lease being deleted (or debris
// of one): it protects nothing.

#include <memory>
#include <string>
#include <vector>

#include "services/layerstore/core/lease_store.h"

namespace strata::layerstore {

class FsLeaseStore final : public LeaseStore {
 public:
  // Opens (creating) <root>/leases. Errors: file-system errors.
  static absl::StatusOr<std::unique_ptr<FsLeaseStore>> Open(const std::string& root);

  absl::StatusOr<Lease> Create(absl::Duration ttl) override;
  absl::StatusOr<Lease> Renew(const std::string& id, absl::Duration ttl) override;
  absl::Status Delete(const std::string& id) override;
  absl::Status AddBlob(const std::string& id, const Digest& digest) override;
  absl::Status AddUpload(const std::string& id, const std::string& ref) override;
  absl::StatusOr<Lease> Get(const std::string& id) override;
  absl::StatusOr<std::vector<Lease>> ListLive(absl::Time now) override;
  absl::StatusOr<int> RemoveExpired(absl::Time before) override;

  const std::string& dir() const { return dir_; }

 private:
  explicit FsLeaseStore(std::string dir) : dir_(std::move(dir)) {}

  // The lease's times from its `lease` file. NOT_FOUND when there is none.
  absl::StatusOr<Lease> ReadHeader(const std::string& id);
  // ReadHeader, NOT_FOUND also when it expired before now.
  absl::StatusOr<Lease> ReadLive(const std::string& id);
  absl::Status WriteHeader(const Lease& lease);
  absl::Status AddEntry(const std::string& id, const std::string& name,
                        const std::string& contents);

  const std::string dir_;  // <root>/leases
};

}  // namespace strata::layerstore

#endif  // STRATA_SERVICES_LAYERSTORE_CORE_FS_LEASE_STORE_H_
