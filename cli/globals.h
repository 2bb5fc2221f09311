#ifndef STRATA_CLI_GLOBALS_H_
#define STRATA_CLI_GLOBALS_H_

// The options every strata command shares: where the services are and how to reach them.
// Each address comes from its flag, else its environment variable, else the default:
//   --layerstore  STRATA_LAYERSTORE  unix:/run/strata/layerstore.sock
//   --imagegraph  STRATA_IMAGEGRAPH  unix:/run/strata/imagegraph.sock
//   --runtime     STRATA_RUNTIME     unix:/run/strata/runtime.sock
//   --gateway     STRATA_GATEWAY     unix:/run/strata/gateway.sock  (only `strata status` asks
//                                    it: the CLI runs the gateway core in-process)

#include <memory>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "cli/core/services.h"
#include "grpcpp/channel.h"
#include "lib/rpc/addresses.h"

namespace strata::cli {

struct Globals {
  std::string layerstore = rpc::kDefaultLayerstoreAddress;
  std::string imagegraph = rpc::kDefaultImagegraphAddress;
  std::string runtime = rpc::kDefaultRuntimeAddress;
  std::string gateway = rpc::kDefaultGatewayAddress;
  std::string tls_ca_file;
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string token_file;

  // What the gateway core needs to reach the services.
  gateway::Endpoints Endpoints() const;
  // A channel to any of them (for health checks).
  absl::StatusOr<std::shared_ptr<grpc::Channel>> Dial(const std::string& address) const;
};

// Registers the global flags (with their environment variables) on the top-level app.
void AddGlobalFlags(CLI::App& app, Globals& globals);

}  // namespace strata::cli

#endif  // STRATA_CLI_GLOBALS_H_
