#include "cli/core/image_writer.h"

#include "absl/strings/str_cat.h"
#include "lib/base/errors.h"
#include "lib/reference/reference.h"

namespace strata::gateway::internal {

absl::StatusOr<std::string> TargetTag(const std::string& text) {
  if (text.empty()) return std::string();
  ASSIGN_OR_RETURN(Reference reference, ParseReference(text));
  if (!reference.digest.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", text, "\": a new image is named by repository and tag, not digest"));
  }
  return reference.ToString();
}

absl::StatusOr<std::unique_ptr<layerstore::LeaseHolder>> TakeLease(Services& services) {
  ASSIGN_OR_RETURN(layerstore::LayerstoreClient * layerstore, services.layerstore());
  absl::StatusOr<std::unique_ptr<layerstore::LeaseHolder>> lease =
      layerstore::LeaseHolder::Take(layerstore, kWriterLeaseTtl);
  if (!lease.ok()) {
    const absl::StatusCode code = lease.status().code();
    if (code == absl::StatusCode::kUnavailable || code == absl::StatusCode::kDeadlineExceeded) {
      return absl::Status(code, absl::StrCat("layerstore at ", services.endpoints().layerstore,
                                             ": ", lease.status().message()));
    }
    return Annotate(lease.status(), "taking a layerstore lease");
  }
  return lease;
}

absl::StatusOr<ig::Image> WriteImage(Services& services, const oci::ImageConfig& config,
                                     const std::vector<types::v1::LayerDescriptor>& layers,
                                     const std::string& parent_id, const std::string& tag,
                                     layerstore::LeaseHolder* lease) {
  return WriteImageBytes(services, config.Serialize(), layers, parent_id, tag, {}, lease);
}

absl::StatusOr<ig::Image> WriteImageBytes(Services& services, const std::string& config,
                                          const std::vector<types::v1::LayerDescriptor>& layers,
                                          const std::string& parent_id, const std::string& tag,
                                          const std::vector<std::string>& repo_digests,
                                          layerstore::LeaseHolder* lease) {
  if (lease != nullptr) RETURN_IF_ERROR(lease->Check());
  ASSIGN_OR_RETURN(ig::ImageGraph::Stub * images, services.imagegraph());
  ig::CreateImageRequest request;
  request.set_config(config);
  for (const auto& layer : layers) *request.add_layers() = layer;
  request.set_parent_id(parent_id);
  if (!tag.empty()) request.add_tags(tag);
  for (const std::string& digest : repo_digests) request.add_repo_digests(digest);
  ig::CreateImageResponse response;
  grpc::Status status = images->CreateImage(Services::Unary().get(), request, &response);
  if (!status.ok()) return services.ImagegraphError(status);
  // Recorded: the image protects its blobs from here on. A failed release only means the
  // lease lives on until it expires.
  if (lease != nullptr) (void)lease->Release();
  return std::move(*response.mutable_image());
}

}  // namespace strata::gateway::internal
