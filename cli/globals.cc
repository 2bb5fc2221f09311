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
  app.add_option("--gateway", globals.gateway, "Gateway service address (for status)")
      ->envname("STRATA_GATEWAY")
      ->capture_default_str();
  app.add_option("--tls-ca", globals.tls_ca_file, "PEM CA bundle: connect with TLS")
      ->envname("STRATA_TLS_CA");
  app.add_option("--tls-cert", globals.tls_cert_file, "PEM client certificate")
      ->envname("STRATA_TLS_CERT");
  app.add_option("--tls-key", globals.tls_key_file, "PEM client key")->envname("STRATA_TLS_KEY");
  app.add_option("--token-file", globals.token_file, "File holding the services' bearer token")
      ->envname("STRATA_TOKEN_FILE");
}

gateway::Endpoints Globals::Endpoints() const {
  return {.layerstore = layerstore,
          .imagegraph = imagegraph,
          .runtime = runtime,
          .tls_ca_file = tls_ca_file,
          .tls_cert_file = tls_cert_file,
          .tls_key_file = tls_key_file,
          .token_file = token_file};
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> Globals::Dial(const std::string& address) const {
  return rpc::Dial({.address = address,
                    .tls_ca_file = tls_ca_file,
                    .tls_cert_file = tls_cert_file,
                    .tls_key_file = tls_key_file,
                    .token_file = token_file});
}

}  // namespace strata::cli
