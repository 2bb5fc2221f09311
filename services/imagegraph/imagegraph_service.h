#ifndef STRATA_SERVICES_IMAGEGRAPH_IMAGEGRAPH_SERVICE_H_
#define STRATA_SERVICES_IMAGEGRAPH_IMAGEGRAPH_SERVICE_H_

// The gRPC adapter of strata.imagegraph.v1: converts each request to the core's structs,
// calls the GraphStore, converts the answer back, and the status once (rpc::ToGrpc). The
// codes are the store's (see graph_store.h and the proto), plus INVALID_ARGUMENT for
// requests missing a required message or carrying an out-of-range timestamp.

#include "services/imagegraph/core/graph_store.h"
#include "strata/imagegraph/v1/imagegraph.grpc.pb.h"

namespace strata::imagegraph {

class ImageGraphService final : public strata::imagegraph::v1::ImageGraph::Service {
 public:
  // store is not owned and must outlive the service.
  explicit ImageGraphService(GraphStore* store) : store_(store) {}

  grpc::Status PutLayer(grpc::ServerContext* context, const v1::PutLayerRequest* request,
                        v1::PutLayerResponse* response) override;
  grpc::Status GetLayer(grpc::ServerContext* context, const v1::GetLayerRequest* request,
                        v1::GetLayerResponse* response) override;
  grpc::Status CreateImage(grpc::ServerContext* context, const v1::CreateImageRequest* request,
                           v1::CreateImageResponse* response) override;
  grpc::Status GetImage(grpc::ServerContext* context, const v1::GetImageRequest* request,
                        v1::GetImageResponse* response) override;
  grpc::Status ListImages(grpc::ServerContext* context, const v1::ListImagesRequest* request,
                          v1::ListImagesResponse* response) override;
  grpc::Status Tag(grpc::ServerContext* context, const v1::TagRequest* request,
                   v1::TagResponse* response) override;
  grpc::Status Untag(grpc::ServerContext* context, const v1::UntagRequest* request,
                     v1::UntagResponse* response) override;
  grpc::Status DeleteImage(grpc::ServerContext* context, const v1::DeleteImageRequest* request,
                           v1::DeleteImageResponse* response) override;
  grpc::Status History(grpc::ServerContext* context, const v1::HistoryRequest* request,
                       v1::HistoryResponse* response) override;
  grpc::Status ListChildren(grpc::ServerContext* context, const v1::ListChildrenRequest* request,
                            v1::ListChildrenResponse* response) override;
  grpc::Status HoldImage(grpc::ServerContext* context, const v1::HoldImageRequest* request,
                         v1::HoldImageResponse* response) override;
  grpc::Status ReleaseImage(grpc::ServerContext* context, const v1::ReleaseImageRequest* request,
                            v1::ReleaseImageResponse* response) override;
  grpc::Status ListHolds(grpc::ServerContext* context, const v1::ListHoldsRequest* request,
                         v1::ListHoldsResponse* response) override;
  grpc::Status ListReferencedBlobs(grpc::ServerContext* context,
                                   const v1::ListReferencedBlobsRequest* request,
                                   v1::ListReferencedBlobsResponse* response) override;
  grpc::Status AddRepoDigest(grpc::ServerContext* context, const v1::AddRepoDigestRequest* request,
                             v1::AddRepoDigestResponse* response) override;
  grpc::Status PutBlobVariant(grpc::ServerContext* context,
                              const v1::PutBlobVariantRequest* request,
                              v1::PutBlobVariantResponse* response) override;
  grpc::Status ListBlobVariants(grpc::ServerContext* context,
                                const v1::ListBlobVariantsRequest* request,
                                v1::ListBlobVariantsResponse* response) override;

 private:
  GraphStore* const store_;
};

}  // namespace strata::imagegraph

#endif  // STRATA_SERVICES_IMAGEGRAPH_IMAGEGRAPH_SERVICE_H_
