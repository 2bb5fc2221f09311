#ifndef STRATA_SERVICES_RUNTIME_CORE_SNAPSHOTTER_H_
#define STRATA_SERVICES_RUNTIME_CORE_SNAPSHOTTER_H_

// Layer snapshots on this node: each layer unpacked once, into its own directory keyed by
// chain id, shared by every container and image that uses it. A missing layer is pulled
// from the blob store, its digest checked as it arrives and its diff id after decompression,
// unpacked into a temporary directory, flushed to disk and renamed into place: a crash never
// leaves a half snapshot that looks whole. Each snapshot also gets a short link name
// (l/<12 chars>) so that overlay mount options stay short (DESIGN: at least 128 layers).
//
// Layout under the root:
//   snapshots/<chain id hex>/fs     the unpacked layer
//   snapshots/<chain id hex>/link   its short link name
//   snapshots/.tmp-*                unpacks in progress (removed on start)
//   l/<short name> -> ../snapshots/<chain id hex>/fs

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "services/runtime/core/blob_store.h"
#include "services/runtime/core/container.h"

namespace strata::runtime {

struct Snapshot {
  Digest chain_id;
  // Absolute path of the unpacked layer.
  std::string dir;
  // Name of its link under link_dir().
  std::string link;
};

class Snapshotter {
 public:
  // root: the runtime's state directory. blobs: not owned.
  Snapshotter(std::string root, BlobStore* blobs);

  // Creates the directories and removes leftovers of interrupted unpacks.
  absl::Status Init();

  // Makes sure every layer (bottom first) is unpacked; returns their snapshots, same order.
  // Concurrent calls for the same layer unpack it once.
  // Errors: NOT_FOUND / UNAVAILABLE from the blob store, DATA_LOSS (a blob that does not match
  // its digest or diff id), INVALID_ARGUMENT (not a layer), errno-based errors.
  absl::StatusOr<std::vector<Snapshot>> Prepare(const std::vector<LayerRef>& layers);

  // A fresh short link name pointing at target (an absolute directory), for directories
  // that are not snapshots (a container's init layer).
  absl::StatusOr<std::string> AddLink(const std::string& target);
  void RemoveLink(const std::string& link);

  const std::string& link_dir() const { return link_dir_; }
  // Where the layer of this chain id is (or would be) unpacked.
  std::string FsDir(const Digest& chain_id) const {
    return snapshots_dir_ + "/" + std::string(chain_id.hex()) + "/fs";
  }

 private:
  // below: the snapshots of the layers under this one, bottom first.
  absl::StatusOr<Snapshot> PrepareOne(const LayerRef& layer, const std::vector<Snapshot>& below);
  absl::StatusOr<Snapshot> Existing(const Digest& chain_id);
  absl::Status Unpack(const LayerRef& layer, const std::vector<Snapshot>& below,
                      const std::string& final_dir);
  absl::Mutex* LockFor(const Digest& chain_id);

  const std::string root_;
  const std::string snapshots_dir_;
  const std::string link_dir_;
  BlobStore* blobs_;
  absl::Mutex mutexes_lock_;
  std::map<std::string, std::unique_ptr<absl::Mutex>> mutexes_;
};

}  // namespace strata::runtime

#endif  // STRATA_SERVICES_RUNTIME_CORE_SNAPSHOTTER_H_
