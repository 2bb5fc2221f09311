#ifndef STRATA_CLI_GATEWAY_H_
#define STRATA_CLI_GATEWAY_H_

// The CLI's connections to the three services, with errors turned into messages a user can
// act on: a service that cannot be reached is named with its address.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cli/globals.h"
#include "grpcpp/client_context.h"
#include "lib/oci/image_config.h"
#include "services/layerstore/client/layerstore_client.h"
#include "strata/imagegraph/v1/imagegraph.grpc.pb.h"
#include "strata/runtime/v1/runtime.grpc.pb.h"

namespace strata::cli {

namespace ig = strata::imagegraph::v1;
namespace rt = strata::runtime::v1;

class Gateway {
 public:
  explicit Gateway(Globals& globals) : globals_(globals) {}

  absl::StatusOr<ig::ImageGraph::Stub*> Images();
  absl::StatusOr<rt::Runtime::Stub*> Runtime();
  absl::StatusOr<layerstore::LayerstoreClient*> Layerstore();

  // A call's status as the user should read it.
  absl::Status ImagesError(const grpc::Status& status) const;
  absl::Status RuntimeError(const grpc::Status& status) const;

  // A context for a unary call (30 s deadline).
  static std::unique_ptr<grpc::ClientContext> Unary();

  absl::StatusOr<ig::Image> GetImage(const std::string& ref);
  absl::StatusOr<rt::Container> Inspect(const std::string& container);
  // Every image (all pages).
  absl::StatusOr<std::vector<ig::Image>> ListImages(const ig::ListImagesRequest& request);
  absl::StatusOr<std::vector<rt::Container>> ListContainers(bool all);

 private:
  Globals& globals_;
  std::unique_ptr<ig::ImageGraph::Stub> images_;
  std::unique_ptr<rt::Runtime::Stub> runtime_;
  std::unique_ptr<layerstore::LayerstoreClient> layerstore_;
};

// The run configuration of an image config, as the runtime takes it.
void ToRunConfig(const oci::RunConfig& config, rt::RunConfig* out);

// Seconds since the epoch of a protobuf timestamp, as absl::Time (InfinitePast when unset).
absl::Time FromTimestamp(const google::protobuf::Timestamp& timestamp);

}  // namespace strata::cli

#endif  // STRATA_CLI_GATEWAY_H_
