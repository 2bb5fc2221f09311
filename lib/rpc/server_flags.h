#ifndef STRATA_LIB_RPC_SERVER_FLAGS_H_
#define STRATA_LIB_RPC_SERVER_FLAGS_H_

// The command-line flags every Strata server takes for its ServerOptions, for the mains (the
// server library itself knows nothing of flags).

#include "CLI/CLI.hpp"
#include "lib/rpc/server.h"

namespace strata::rpc {

// Registers --listen, --insecure, --socket-group, --tls-cert, --tls-key, --tls-client-ca,
// --auth-token-file and --grpc-memory-limit.
void AddServerFlags(CLI::App& app, ServerOptions& options);

}  // namespace strata::rpc

#endif  // STRATA_LIB_RPC_SERVER_FLAGS_H_
