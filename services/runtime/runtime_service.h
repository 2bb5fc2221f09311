#ifndef STRATA_SERVICES_RUNTIME_RUNTIME_SERVICE_H_
#define STRATA_SERVICES_RUNTIME_RUNTIME_SERVICE_H_

#include "strata/runtime/v1/runtime.grpc.pb.h"

namespace strata::runtime {

// The gRPC adapter of strata.runtime.v1.
class RuntimeService final : public strata::runtime::v1::Runtime::Service {};

}  // namespace strata::runtime

#endif  // STRATA_SERVICES_RUNTIME_RUNTIME_SERVICE_H_
