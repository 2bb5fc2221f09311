#include "cli/core/services.h"

#include "cli/core/docker_words.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "lib/base/errors.h"
#include "lib/rpc/client.h"
#include "lib/rpc/health.h"
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
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE &&
      absl::StrContains(status.error_message(), "Permission denied")) {
    // The socket's mode said no (docker's words for its own socket).
    return absl::PermissionDeniedError(
        absl::StrCat("permission denied while trying to connect to ", name, " at ", address,
                     ": only root and members of the socket's group (strata) may use it"));
  }
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

absl::Status Services::CheckHealth(absl::Duration timeout) {
  struct Service {
    const char* name;
    const char* grpc_name;
    const std::string& address;
  };
  const Service services[] = {
      {"layerstore", "strata.layerstore.v1.LayerStore", endpoints_.layerstore},
      {"imagegraph", "strata.imagegraph.v1.ImageGraph", endpoints_.imagegraph},
      {"the runtime", "strata.runtime.v1.Runtime", endpoints_.runtime},
  };
  for (size_t i = 0; i < 3; ++i) {
    std::shared_ptr<grpc::Channel> channel;
    {
      absl::MutexLock lock(&mu_);
      if (health_channels_[i] == nullptr) {
        ASSIGN_OR_RETURN(health_channels_[i],
                         Dial(endpoints_, services[i].address, services[i].name));
      }
      channel = health_channels_[i];
    }
    absl::StatusOr<std::string> health = rpc::CheckHealth(channel, services[i].grpc_name, timeout);
    if (!health.ok()) {
      return absl::UnavailableError(absl::StrCat(services[i].name, " at ", services[i].address,
                                                 ": ", health.status().message()));
    }
    if (*health != "SERVING") {
      return absl::UnavailableError(
          absl::StrCat(services[i].name, " at ", services[i].address, " is ", *health));
    }
  }
  return absl::OkStatus();
}

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
  if (container.empty() && !status.ok()) return EmptyNameError("container");
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
