// Gateway: the image workflows that are imagegraph calls (list, inspect, tag, rmi, history).

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "cli/core/docker_words.h"
#include "cli/core/gateway.h"
#include "lib/base/errors.h"
#include "lib/rpc/time.h"

namespace strata::gateway {
namespace {

std::string Short(const std::string& id) {
  return std::string(absl::StripPrefix(id, "sha256:").substr(0, 12));
}

}  // namespace

absl::StatusOr<ig::ListImagesResponse> Gateway::ListImages(const ig::ListImagesRequest& request) {
  ASSIGN_OR_RETURN(ig::ImageGraph::Stub * images, services_.imagegraph());
  ig::ListImagesResponse response;
  grpc::Status status = images->ListImages(Services::Unary().get(), request, &response);
  if (!status.ok()) return services_.ImagegraphError(status);
  return response;
}

absl::StatusOr<std::vector<ig::Image>> Gateway::ListAllImages(ig::ListImagesRequest request) {
  std::vector<ig::Image> out;
  for (;;) {
    ASSIGN_OR_RETURN(ig::ListImagesResponse page, ListImages(request));
    for (ig::Image& image : *page.mutable_images()) out.push_back(std::move(image));
    if (page.next_page_token().empty()) return out;
    request.set_page_token(page.next_page_token());
  }
}

absl::StatusOr<ig::Image> Gateway::InspectImage(const std::string& ref) {
  if (ref.empty()) return EmptyNameError("image");
  ASSIGN_OR_RETURN(ig::ImageGraph::Stub * images, services_.imagegraph());
  ig::GetImageRequest request;
  request.set_ref(ref);
  ig::GetImageResponse response;
  grpc::Status status = images->GetImage(Services::Unary().get(), request, &response);
  if (status.error_code() == grpc::StatusCode::NOT_FOUND) {
    // docker's words (scripts match them); imagegraph's reason after them.
    return absl::NotFoundError(
        absl::StrCat("No such image: ", ref, " (", status.error_message(), ")"));
  }
  if (!status.ok()) return services_.ImagegraphError(status);
  return std::move(*response.mutable_image());
}

absl::StatusOr<ig::TagResponse> Gateway::TagImage(const ig::TagRequest& request) {
  if (request.image().empty()) return EmptyNameError("image");
  RETURN_IF_ERROR(CheckTagTarget(request.target()));
  ASSIGN_OR_RETURN(ig::ImageGraph::Stub * images, services_.imagegraph());
  ig::TagResponse response;
  grpc::Status status = images->Tag(Services::Unary().get(), request, &response);
  if (status.error_code() == grpc::StatusCode::NOT_FOUND) {
    return absl::NotFoundError(
        absl::StrCat("No such image: ", ImageNameForError(request.image())));
  }
  if (!status.ok()) return services_.ImagegraphError(status);
  return response;
}

absl::StatusOr<ig::DeleteImageResponse> Gateway::RemoveImage(
    const ig::DeleteImageRequest& request) {
  if (request.ref().empty()) return EmptyNameError("image");
  ASSIGN_OR_RETURN(ig::ImageGraph::Stub * images, services_.imagegraph());
  ReconcileHolds();
  ig::DeleteImageResponse response;
  grpc::Status status = images->DeleteImage(Services::Unary().get(), request, &response);
  if (status.ok()) return response;
  if (status.error_code() == grpc::StatusCode::NOT_FOUND) {
    return absl::NotFoundError(absl::StrCat("No such image: ", ImageNameForError(request.ref())));
  }
  if (status.error_code() != grpc::StatusCode::FAILED_PRECONDITION) {
    return services_.ImagegraphError(status);
  }
  const absl::Status refused =
      absl::FailedPreconditionError(DockerConflict(status.error_message()));
  // Refused. When a container holds the image, say whether it runs, as docker does: only
  // the runtime knows (imagegraph, which refused, knows who holds it).
  ig::ListHoldsRequest holds_request;
  holds_request.set_image(request.ref());
  ig::ListHoldsResponse holds;
  if (!images->ListHolds(Services::Unary().get(), holds_request, &holds).ok() ||
      holds.holds().empty()) {
    return refused;
  }
  for (const ig::Hold& hold : holds.holds()) {
    absl::StatusOr<rt::Container> container = InspectContainer(hold.holder());
    if (!container.ok()) continue;  // on another node, or gone: imagegraph's words stand
    if (container->state() == rt::RUNNING || container->state() == rt::PAUSED) {
      return absl::FailedPreconditionError(
          absl::StrCat("conflict: unable to delete ", Short(hold.image_id()),
                       " (cannot be forced) - image is being used by running container ",
                       container->id().substr(0, 12)));
    }
    if (absl::StrContains(status.error_message(), "image is being used by container")) {
      return absl::FailedPreconditionError(
          absl::StrCat("conflict: unable to delete ", Short(hold.image_id()),
                       " (must be forced) - image is being used by stopped container ",
                       container->id().substr(0, 12)));
    }
  }
  return refused;
}

void Gateway::ReconcileHolds() {
  absl::StatusOr<ig::ImageGraph::Stub*> images = services_.imagegraph();
  absl::StatusOr<rt::Runtime::Stub*> runtime = services_.runtime();
  if (!images.ok() || !runtime.ok()) return;
  rt::ListRequest list;
  list.set_all(true);
  rt::ListResponse listed;
  if (!(*runtime)->List(Services::Unary().get(), list, &listed).ok()) return;
  absl::flat_hash_set<std::string> alive;
  for (const rt::Container& container : listed.containers()) {
    alive.insert(container.id());
    ig::HoldImageRequest request;
    request.set_image(container.image_id());
    request.set_holder(container.id());
    request.set_node(node());
    ig::HoldImageResponse response;
    // NOT_FOUND: its image is already gone (deleted before holds existed); nothing to keep.
    (void)(*images)->HoldImage(Services::Unary().get(), request, &response);
  }
  // And no hold outlives its container. The runtime removes `run --rm` containers itself
  // when they exit, with nobody to release their holds then: it names them, so theirs go
  // at once. Any other hold without a container (a client killed between its hold and its
  // create, a runtime restarted since) goes once it is old enough that no create can still
  // be under way for it: a hold comes before its container exists.
  const absl::flat_hash_set<std::string> auto_removed(listed.auto_removed().begin(),
                                                      listed.auto_removed().end());
  ig::ListHoldsRequest all;
  ig::ListHoldsResponse holds;
  if (!(*images)->ListHolds(Services::Unary().get(), all, &holds).ok()) return;
  for (const ig::Hold& hold : holds.holds()) {
    if (hold.node() != node() || alive.contains(hold.holder())) continue;
    if (auto_removed.contains(hold.holder()) ||
        absl::Now() - rpc::FromTimestamp(hold.created()) >= absl::Minutes(10)) {
      ReleaseHold(hold.holder());
    }
  }
}

absl::StatusOr<ig::HistoryResponse> Gateway::History(const std::string& ref) {
  if (ref.empty()) return EmptyNameError("image");
  ASSIGN_OR_RETURN(ig::ImageGraph::Stub * images, services_.imagegraph());
  ig::HistoryRequest request;
  request.set_ref(ref);
  ig::HistoryResponse response;
  grpc::Status status = images->History(Services::Unary().get(), request, &response);
  if (status.error_code() == grpc::StatusCode::NOT_FOUND) {
    return absl::NotFoundError(absl::StrCat("No such image: ", ImageNameForError(ref)));
  }
  if (!status.ok()) return services_.ImagegraphError(status);
  return response;
}

}  // namespace strata::gateway
