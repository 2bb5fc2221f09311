#ifndef STRATA_SERVICES_RUNTIME_LAYERSTORE_BLOBS_H_
#define STRATA_SERVICES_RUNTIME_LAYERSTORE_BLOBS_H_

// The runtime core's BlobStore, served by layerstore over gRPC.

#include <memory>

#include "grpcpp/channel.h"
#include "services/layerstore/client/layerstore_client.h"
#include "services/runtime/core/blob_store.h"

namespace strata::runtime {

class LayerstoreBlobs : public BlobStore {
 public:
  explicit LayerstoreBlobs(std::shared_ptr<grpc::Channel> channel) : client_(std::move(channel)) {}

  absl::StatusOr<std::unique_ptr<layer::ByteSource>> Open(const Digest& digest) override;
  absl::StatusOr<std::unique_ptr<BlobUpload>> StartUpload(const std::string& ref) override;
  absl::StatusOr<std::unique_ptr<BlobUpload>> StartLeasedUpload(const std::string& ref,
                                                                const std::string& lease) override;

 private:
  layerstore::LayerstoreClient client_;
};

}  // namespace strata::runtime

#endif  // STRATA_SERVICES_RUNTIME_LAYERSTORE_BLOBS_H_
