#include "cli/globals.h"

#include "lib/rpc/client.h"

namespace strata::cli {

void AddGlobalFlags(CLI::App& app, Globals& globals) {
  app.add_option("--layerstore", globals.layerstore, "Layerstore address")
      ->envname("STRATA_LAYERSTORE")
      ->capture_default_str();
  app.add_option("--imagegraph", globals.imagegraph, "Imagegraph address")
      ->envname("STRATA_IMAGEGRAPH")
      ->capture_default_str();
  app.add_option("--runtime", globals.runtime, "Runtime address")
      ->envname("STRATA_RUNTIME")
      ->capture_default_str();
  app.add_option("--tls-ca", globals.tls_ca_file, "PEM CA bundle: connect with TLS")
      ->envname("STRATA_TLS_CA");
  app.add_option("--tls-cert", globals.tls_cert_file, "PEM client certificate")
      ->envname("STRATA_TLS_CERT");
  app.add_option("--tls-key", globals.tls_key_file, "PEM client key")->envname("STRATA_TLS_KEY");
  app.add_option("--token-file", globals.token_file, "File holding the services' bearer token")
      ->envname("STRATA_TOKEN_FILE");
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> Globals::Dial(const std::string& address) {
  return rpc::Dial({.address = address,
                    .tls_ca_file = tls_ca_file,
                    .tls_cert_file = tls_cert_file,
                    .tls_key_file = tls_key_file,
                    .token_file = token_file});
}

namespace {

absl::StatusOr<std::shared_ptr<grpc::Channel>> Cached(Globals& globals,
                                                      std::shared_ptr<grpc::Channel>& cache,
                                                      const std::string& address) {
  if (cache == nullptr) {
    auto channel = globals.Dial(address);
    if (!channel.ok()) return channel.status();
    cache = *channel;
  }
  return cache;
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::Channel>> Globals::LayerstoreChannel() {
  return Cached(*this, layerstore_channel_, layerstore);
}
absl::StatusOr<std::shared_ptr<grpc::Channel>> Globals::ImagegraphChannel() {
  return Cached(*this, imagegraph_channel_, imagegraph);
}
absl::StatusOr<std::shared_ptr<grpc::Channel>> Globals::RuntimeChannel() {
  return Cached(*this, runtime_channel_, runtime);
}

}  // namespace strata::cli
