#ifndef STRATA_LIB_RPC_STATUS_H_
#define STRATA_LIB_RPC_STATUS_H_

// Conversion between absl::Status (what every core library returns) and grpc::Status (what
// crosses the wire). The codes share numbering, so the conversion keeps code and message;
// a message longer than kMaxErrorMessageSize is cut in the middle (head and tail kept): it
// travels in the response's metadata, and past gRPC's limit (8 KiB by default) the caller
// would see only "received initial metadata size exceeds limit".

#include <cstddef>

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace strata::rpc {

inline constexpr size_t kMaxErrorMessageSize = 1024;

grpc::Status ToGrpc(const absl::Status& status);
absl::Status FromGrpc(const grpc::Status& status);

}  // namespace strata::rpc

#endif  // STRATA_LIB_RPC_STATUS_H_
