#include "services/layerstore/imagegraph_references.h"

#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "grpcpp/client_context.h"
#include "lib/rpc/status.h"
#include "strata/imagegraph/v1/imagegraph.grpc.pb.h"

namespace strata::layerstore {

ReferencedBlobs ImagegraphReferences(std::shared_ptr<grpc::Channel> channel,
                                     std::string address) {
  std::shared_ptr<imagegraph::v1::ImageGraph::Stub> stub =
      imagegraph::v1::ImageGraph::NewStub(std::move(channel));
  return [stub, address]() -> absl::StatusOr<absl::flat_hash_set<std::string>> {
    absl::flat_hash_set<std::string> digests;
    imagegraph::v1::ListReferencedBlobsRequest request;
    for (;;) {
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
      imagegraph::v1::ListReferencedBlobsResponse response;
      grpc::Status status = stub->ListReferencedBlobs(&context, request, &response);
      if (!status.ok()) {
        absl::Status error = rpc::FromGrpc(status);
        return absl::Status(error.code(), absl::StrCat("imagegraph at ", address,
                                                       ": referenced blobs: ", error.message()));
      }
      for (std::string& digest : *response.mutable_digests()) digests.insert(std::move(digest));
      if (response.next_page_token().empty()) return digests;
      request.set_page_token(response.next_page_token());
    }
  };
}

}  // namespace strata::layerstore
