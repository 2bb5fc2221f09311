#ifndef STRATA_CLI_GLOBALS_H_
#define STRATA_CLI_GLOBALS_H_

// The options every strata command shares: where the services are and how to reach them.
// Each address comes from its flag, else its environment variable, else the default:
//   --layerstore  STRATA_LAYERSTORE  127.0.0.1:7420
//   --imagegraph  STRATA_IMAGEGRAPH  127.0.0.1:7421
//   --runtime     STRATA_RUNTIME     127.0.0.1:7422
//   --gateway     STRATA_GATEWAY     127.0.0.1:7423  (only `strata status` asks it: the CLI
//                                                     runs the gateway core in-process)

#include <memory>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "cli/core/services.h"
#include "grpcpp/channel.h"

namespace strata::cli {

inline constexpr char kDefaultLayerstore[] = "127.0.0.1:7420";
inline constexpr char kDefaultImagegraph[] = "127.0.0.1:7421";
inline constexpr char kDefaultRuntime[] = "127.0.0.1:7422";
inline constexpr char kDefaultGateway[] = "127.0.0.1:7423";

struct Globals {
  std::string layerstore = kDefaultLayerstore;
  std::string imagegraph = kDefaultImagegraph;
  std::string runtime = kDefaultRuntime;
  std::string gateway = kDefaultGateway;
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
