#ifndef STRATA_SERVICES_LAYERSTORE_IMAGEGRAPH_REFERENCES_H_
#define STRATA_SERVICES_LAYERSTORE_IMAGEGRAPH_REFERENCES_H_

// The blob GC's mark from imagegraph: every digest ListReferencedBlobs pages through (layer
// blobs, image configs, kept variants). Errors of the calls: UNAVAILABLE (named with the
// address) and the like; a collection then removes nothing.

#include <memory>
#include <string>

#include "grpcpp/channel.h"
#include "services/layerstore/core/blob_gc.h"

namespace strata::layerstore {

ReferencedBlobs ImagegraphReferences(std::shared_ptr<grpc::Channel> channel,
                                     std::string address);

}  // namespace strata::layerstore

#endif  // STRATA_SERVICES_LAYERSTORE_IMAGEGRAPH_REFERENCES_H_
