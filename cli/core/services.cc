#include "cli/core/services.h"

#include "absl/strings/str_cat.h"
#include "lib/rpc/client.h"
#include "lib/rpc/status.h"

namespace strata::gateway {
namespace {

absl::StatusOr<std::shared_ptr<grpc::Channel>> Dial(const Endpoints& endpoints,
                                                    const std::string& address, const char* name) {
  if (address.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("no address given for ", name));
  }
  return rpc::Dial({.address = address,
                    .tls_ca_file = endpoints.tls_ca_file,
                    .tls_cert_file = endpoints.tls_cert_file,
                    .tls_key_file = endpoints.tls_key_file,
                    .token_file = endpoints.token_file});
}

absl::Status Explain(const char* name, const std::string& address, const grpc::Status& status) {
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE) {
    return absl::UnavailableError(
        absl::StrCat("cannot reach ", name, " at ", address,
                     " (is it running? see `strata status`): ", status.error_message()));
  }
  if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    return absl::DeadlineExceededError(
        absl::StrCat(name, " at ", address, " did not answer in time: ", status.error_message()));
  }
  return rpc::FromGrpc(status);
}

}  // namespace

absl::StatusOr<ig::ImageGraph::Stub*> Services::imagegraph() {
  absl::MutexLock lock(&mu_);
  if (imagegraph_ == nullptr) {
    absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
        Dial(endpoints_, endpoints_.imagegraph, "imagegraph");
    if (!channel.ok()) return channel.status();
    imagegraph_ = ig::ImageGraph::NewStub(*channel);
  }
  return imagegraph_.get();
}

absl::StatusOr<rt::Runtime::Stub*> Services::runtime() {
  absl::MutexLock lock(&mu_);
  if (runtime_ == nullptr) {
    absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
        Dial(endpoints_, endpoints_.runtime, "the runtime");
    if (!channel.ok()) return channel.status();
    runtime_ = rt::Runtime::NewStub(*channel);
  }
  return runtime_.get();
}

absl::StatusOr<layerstore::LayerstoreClient*> Services::layerstore() {
  absl::MutexLock lock(&mu_);
  if (layerstore_ == nullptr) {
    absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
        Dial(endpoints_, endpoints_.layerstore, "layerstore");
    if (!channel.ok()) return channel.status();
    layerstore_ = std::make_unique<layerstore::LayerstoreClient>(*channel);
  }
  return layerstore_.get();
}

absl::Status Services::ImagegraphError(const grpc::Status& status) const {
  return Explain("imagegraph", endpoints_.imagegraph, status);
}

absl::Status Services::RuntimeError(const grpc::Status& status) const {
  return Explain("the runtime", endpoints_.runtime, status);
}

absl::Status Services::RuntimeError(const grpc::Status& status,
                                    const std::string& container) const {
  if (status.error_code() == grpc::StatusCode::NOT_FOUND &&
      status.error_message().find("no such container") != std::string::npos) {
    return absl::NotFoundError(absl::StrCat("No such container: ", container));
  }
  return RuntimeError(status);
}

std::unique_ptr<grpc::ClientContext> Services::Unary(absl::Duration timeout) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  return context;
}

}  // namespace strata::gateway
