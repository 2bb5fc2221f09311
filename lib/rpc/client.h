#ifndef STRATA_LIB_RPC_CLIENT_H_
#define STRATA_LIB_RPC_CLIENT_H_

// Client channels to Strata services, configured to match ServiceHost: message limits,
// optional TLS (with a client certificate) and a bearer token. A target may list several
// replicas of one service ("ipv4:10.0.0.5:7420,10.0.0.6:7420"): calls are then spread over
// them (gRPC's round_robin, which skips a replica that is down) and a call a replica could
// not take (UNAVAILABLE) is tried again on another.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "grpcpp/channel.h"

namespace strata::rpc {

struct ClientOptions {
  // host:port, or any gRPC target ("unix:/path", "ipv4:A:port,B:port" for replicas).
  std::string address;
  // PEM CA bundle to verify the server with: use TLS when set.
  std::string tls_ca_file;
  // PEM client certificate and key, for servers that require one.
  std::string tls_cert_file;
  std::string tls_key_file;
  // File holding the bearer token the server asks for.
  std::string token_file;
  // The name the server certificates are checked for, instead of the target's host. Empty
  // with a target listing several addresses: the first one's, so one certificate per service
  // naming every replica's address (deploy/certs.sh server NAME IP:A IP:B) serves them all.
  std::string tls_server_name;
};

// The addresses of a target that lists several ("ipv4:A:p,B:p" or "ipv6:[A]:p,[B]:p"), as
// "A:p"...; empty for any other target (one address, a name, a unix socket).
std::vector<std::string> ReplicaAddresses(const std::string& target);

// Creates a channel (connecting lazily).
// Errors: INVALID_ARGUMENT (empty address, unreadable TLS or token file, token without TLS).
absl::StatusOr<std::shared_ptr<grpc::Channel>> Dial(const ClientOptions& options);

}  // namespace strata::rpc

#endif  // STRATA_LIB_RPC_CLIENT_H_
