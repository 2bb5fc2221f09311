#include "cli/gateway.h"

#include "absl/strings/str_cat.h"
#include "lib/rpc/status.h"

namespace strata::cli {
namespace {

absl::Status Explain(const char* name, const std::string& address, const grpc::Status& status) {
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE) {
    return absl::UnavailableError(absl::StrCat("cannot reach ", name, " at ", address,
                                               " (is it running? see `strata status`): ",
                                               status.error_message()));
  }
  if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    return absl::DeadlineExceededError(absl::StrCat(name, " at ", address,
                                                    " did not answer in time: ",
                                                    status.error_message()));
  }
  return rpc::FromGrpc(status);
}

}  // namespace

std::unique_ptr<grpc::ClientContext> Gateway::Unary() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  return context;
}

absl::StatusOr<ig::ImageGraph::Stub*> Gateway::Images() {
  if (images_ == nullptr) {
    absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = globals_.ImagegraphChannel();
    if (!channel.ok()) return channel.status();
    images_ = ig::ImageGraph::NewStub(*channel);
  }
  return images_.get();
}

absl::StatusOr<rt::Runtime::Stub*> Gateway::Runtime() {
  if (runtime_ == nullptr) {
    absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = globals_.RuntimeChannel();
    if (!channel.ok()) return channel.status();
    runtime_ = rt::Runtime::NewStub(*channel);
  }
  return runtime_.get();
}

absl::StatusOr<layerstore::LayerstoreClient*> Gateway::Layerstore() {
  if (layerstore_ == nullptr) {
    absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = globals_.LayerstoreChannel();
    if (!channel.ok()) return channel.status();
    layerstore_ = std::make_unique<layerstore::LayerstoreClient>(*channel);
  }
  return layerstore_.get();
}

absl::Status Gateway::ImagesError(const grpc::Status& status) const {
  return Explain("imagegraph", globals_.imagegraph, status);
}

absl::Status Gateway::RuntimeError(const grpc::Status& status) const {
  return Explain("the runtime", globals_.runtime, status);
}

absl::StatusOr<ig::Image> Gateway::GetImage(const std::string& ref) {
  absl::StatusOr<ig::ImageGraph::Stub*> images = Images();
  if (!images.ok()) return images.status();
  ig::GetImageRequest request;
  request.set_ref(ref);
  ig::GetImageResponse response;
  grpc::Status status = (*images)->GetImage(Unary().get(), request, &response);
  if (!status.ok()) return ImagesError(status);
  return response.image();
}

absl::StatusOr<rt::Container> Gateway::Inspect(const std::string& container) {
  absl::StatusOr<rt::Runtime::Stub*> runtime = Runtime();
  if (!runtime.ok()) return runtime.status();
  rt::InspectRequest request;
  request.set_container(container);
  rt::InspectResponse response;
  grpc::Status status = (*runtime)->Inspect(Unary().get(), request, &response);
  if (!status.ok()) return RuntimeError(status);
  return response.container();
}

absl::StatusOr<std::vector<ig::Image>> Gateway::ListImages(const ig::ListImagesRequest& request) {
  absl::StatusOr<ig::ImageGraph::Stub*> images = Images();
  if (!images.ok()) return images.status();
  std::vector<ig::Image> out;
  ig::ListImagesRequest page = request;
  for (;;) {
    ig::ListImagesResponse response;
    grpc::Status status = (*images)->ListImages(Unary().get(), page, &response);
    if (!status.ok()) return ImagesError(status);
    for (auto& image : *response.mutable_images()) out.push_back(std::move(image));
    if (response.next_page_token().empty()) return out;
    page.set_page_token(response.next_page_token());
  }
}

absl::StatusOr<std::vector<rt::Container>> Gateway::ListContainers(bool all) {
  absl::StatusOr<rt::Runtime::Stub*> runtime = Runtime();
  if (!runtime.ok()) return runtime.status();
  rt::ListRequest request;
  request.set_all(all);
  rt::ListResponse response;
  grpc::Status status = (*runtime)->List(Unary().get(), request, &response);
  if (!status.ok()) return RuntimeError(status);
  return std::vector<rt::Container>(response.containers().begin(), response.containers().end());
}

void ToRunConfig(const oci::RunConfig& config, rt::RunConfig* out) {
  if (config.entrypoint) {
    for (const auto& value : *config.entrypoint) out->add_entrypoint(value);
  }
  if (config.cmd) {
    for (const auto& value : *config.cmd) out->add_cmd(value);
  }
  for (const auto& value : config.env) out->add_env(value);
  out->set_working_dir(config.working_dir);
  out->set_user(config.user);
  out->set_stop_signal(config.stop_signal);
  out->mutable_labels()->insert(config.labels.begin(), config.labels.end());
}

absl::Time FromTimestamp(const google::protobuf::Timestamp& timestamp) {
  if (timestamp.seconds() == 0 && timestamp.nanos() == 0) return absl::InfinitePast();
  return absl::FromUnixSeconds(timestamp.seconds()) + absl::Nanoseconds(timestamp.nanos());
}

}  // namespace strata::cli
