#ifndef STRATA_LIB_RPC_HEALTH_H_
#define STRATA_LIB_RPC_HEALTH_H_

// Asking a server for its health over grpc.health.v1.

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"

namespace strata::rpc {

// The serving status of `service` ("" for the whole server): "SERVING", "NOT_SERVING", ...
// Errors: the call's status (UNAVAILABLE when nothing answers, DEADLINE_EXCEEDED, NOT_FOUND
// for a service the server does not know).
absl::StatusOr<std::string> CheckHealth(const std::shared_ptr<grpc::Channel>& channel,
                                        const std::string& service,
                                        absl::Duration timeout = absl::Seconds(3));

}  // namespace strata::rpc

#endif  // STRATA_LIB_RPC_HEALTH_H_
