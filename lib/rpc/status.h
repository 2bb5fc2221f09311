#ifndef STRATA_LIB_RPC_STATUS_H_
#define STRATA_LIB_RPC_STATUS_H_

// Conversion between absl::Status (what every core library returns) and grpc::Status (what
// crosses the wire). The codes share numbering, so the conversion keeps code and message.

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace strata::rpc {

grpc::Status ToGrpc(const absl::Status& status);
absl::Status FromGrpc(const grpc::Status& status);

}  // namespace strata::rpc

#endif  // STRATA_LIB_RPC_STATUS_H_
