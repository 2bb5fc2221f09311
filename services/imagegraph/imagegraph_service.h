#ifndef STRATA_SERVICES_IMAGEGRAPH_IMAGEGRAPH_SERVICE_H_
#define STRATA_SERVICES_IMAGEGRAPH_IMAGEGRAPH_SERVICE_H_

#include "strata/imagegraph/v1/imagegraph.grpc.pb.h"

namespace strata::imagegraph {

// The gRPC adapter of strata.imagegraph.v1.
class ImageGraphService final : public strata::imagegraph::v1::ImageGraph::Service {};

}  // namespace strata::imagegraph

#endif  // STRATA_SERVICES_IMAGEGRAPH_IMAGEGRAPH_SERVICE_H_
