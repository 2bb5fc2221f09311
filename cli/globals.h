#ifndef STRATA_CLI_GLOBALS_H_
#define STRATA_CLI_GLOBALS_H_

// The options every strata command shares: where the services are and how to reach them.
// Each address comes from its flag, else its environment variable, else the default:
//   --layerstore  STRATA_LAYERSTORE  127.0.0.1:7420
//   --imagegraph  STRATA_IMAGEGRAPH  127.0.0.1:7421
//   --runtime     STRATA_RUNTIME     127.0.0.1:7422

#include <memory>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "grpcpp/channel.h"

namespace strata::cli {

inline constexpr char kDefaultLayerstore[] = "127.0.0.1:7420";
inline constexpr char kDefaultImagegraph[] = "127.0.0.1:7421";
inline constexpr char kDefaultRuntime[] = "127.0.0.1:7422";

struct Globals {
  std::string layerstore = kDefaultLayerstore;
  std::string imagegraph = kDefaultImagegraph;
  std::string runtime = kDefaultRuntime;
  std::string tls_ca_file;
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string token_file;

  // Channels, created on first use.
  absl::StatusOr<std::shared_ptr<grpc::Channel>> LayerstoreChannel();
  absl::StatusOr<std::shared_ptr<grpc::Channel>> ImagegraphChannel();
  absl::StatusOr<std::shared_ptr<grpc::Channel>> RuntimeChannel();
  absl::StatusOr<std::shared_ptr<grpc::Channel>> Dial(const std::string& address);

 private:
  std::shared_ptr<grpc::Channel> layerstore_channel_;
  std::shared_ptr<grpc::Channel> imagegraph_channel_;
  std::shared_ptr<grpc::Channel> runtime_channel_;
};

// Registers the global flags (with their environment variables) on the top-level app.
void AddGlobalFlags(CLI::App& app, Globals& globals);

}  // namespace strata::cli

#endif  // STRATA_CLI_GLOBALS_H_
