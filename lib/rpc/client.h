#ifndef STRATA_LIB_RPC_CLIENT_H_
#define STRATA_LIB_RPC_CLIENT_H_

// Client channels to Strata services, configured to match ServiceHost: message limits,
// optional TLS (with a client certificate) and a bearer token.

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/channel.h"

namespace strata::rpc {

struct ClientOptions {
  // host:port, or any gRPC target ("unix:/path").
  std::string address;
  // PEM CA bundle to verify the server with: use TLS when set.
  std::string tls_ca_file;
  // PEM client certificate and key, for servers that require one.
  std::string tls_cert_file;
  std::string tls_key_file;
  // File holding the bearer token the server asks for.
  std::string token_file;
};

// Creates a channel (connecting lazily).
// Errors: INVALID_ARGUMENT (empty address, unreadable TLS or token file, token without TLS).
absl::StatusOr<std::shared_ptr<grpc::Channel>> Dial(const ClientOptions& options);

}  // namespace strata::rpc

#endif  // STRATA_LIB_RPC_CLIENT_H_
