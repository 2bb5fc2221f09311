#ifndef STRATA_CLI_CORE_SERVICES_H_
#define STRATA_CLI_CORE_SERVICES_H_

// The gateway core's connections to the three services: where they are, how to reach them
// (TLS, token), their stubs (dialled on first use), and their errors turned into what the
// caller should read: a service that cannot be reached is named with its address.
// Thread-safe; the stubs may be used from any thread.

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/client_context.h"
#include "services/layerstore/client/layerstore_client.h"
#include "strata/imagegraph/v1/imagegraph.grpc.pb.h"
#include "strata/runtime/v1/runtime.grpc.pb.h"

namespace strata::gateway {

namespace ig = ::strata::imagegraph::v1;
namespace rt = ::strata::runtime::v1;

// Where the services are: any gRPC target ("127.0.0.1:7421", "unix:/run/strata/x.sock").
struct Endpoints {
  std::string layerstore;
  std::string imagegraph;
  std::string runtime;
  // Client TLS and token (see lib/rpc/client.h), shared by all three.
  std::string tls_ca_file;
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string token_file;
};

class Services {
 public:
  explicit Services(Endpoints endpoints) : endpoints_(std::move(endpoints)) {}

  const Endpoints& endpoints() const { return endpoints_; }

  // Errors: INVALID_ARGUMENT (no address; unreadable TLS or token file).
  absl::StatusOr<ig::ImageGraph::Stub*> imagegraph();
  absl::StatusOr<rt::Runtime::Stub*> runtime();
  absl::StatusOr<layerstore::LayerstoreClient*> layerstore();

  // A failed call's status as the caller should read it: UNAVAILABLE and DEADLINE_EXCEEDED
  // name the service and its address; the rest keep code and message.
  absl::Status ImagegraphError(const grpc::Status& status) const;
  absl::Status RuntimeError(const grpc::Status& status) const;
  // RuntimeError for a call about `container`: "No such container: NAME" (docker's words) when
  // the runtime does not know it.
  absl::Status RuntimeError(const grpc::Status& status, const std::string& container) const;

  // OK when layerstore, imagegraph and the runtime all report SERVING over grpc.health.v1
  // (each within timeout); what the gateway's own health follows, as no workflow works
  // without all three. Channels for it are dialled once and kept.
  // Errors: UNAVAILABLE naming the first service that is not serving, its address and what
  // it answered; INVALID_ARGUMENT (no address, unreadable TLS or token file).
  absl::Status CheckHealth(absl::Duration timeout = absl::Seconds(1));

  // A context for a unary call, with a deadline.
  static std::unique_ptr<grpc::ClientContext> Unary(absl::Duration timeout = absl::Seconds(30));

 private:
  const Endpoints endpoints_;
  absl::Mutex mu_;
  std::unique_ptr<ig::ImageGraph::Stub> imagegraph_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<rt::Runtime::Stub> runtime_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<layerstore::LayerstoreClient> layerstore_ ABSL_GUARDED_BY(mu_);
  // For CheckHealth: layerstore, imagegraph, runtime.
  std::shared_ptr<grpc::Channel> health_channels_[3] ABSL_GUARDED_BY(mu_);
};

}  // namespace strata::gateway

#endif  // STRATA_CLI_CORE_SERVICES_H_
