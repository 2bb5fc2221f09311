#ifndef STRATA_SERVICES_LAYERSTORE_LAYERSTORE_SERVICE_H_
#define STRATA_SERVICES_LAYERSTORE_LAYERSTORE_SERVICE_H_

#include "strata/layerstore/v1/layerstore.grpc.pb.h"

namespace strata::layerstore {

// The gRPC adapter of strata.layerstore.v1.
class LayerStoreService final : public strata::layerstore::v1::LayerStore::Service {};

}  // namespace strata::layerstore

#endif  // STRATA_SERVICES_LAYERSTORE_LAYERSTORE_SERVICE_H_
