// strata-gateway: serves strata.gateway.v1, every Strata workflow as one RPC, over the
// services of one node (its runtime) and the shared layerstore and imagegraph.

#include <clocale>
#include <string>

#include "CLI/CLI.hpp"
#include "cli/core/gateway.h"
#include "cli/service/gateway_service.h"
#include "lib/base/malloc_tuning.h"
#include "lib/rpc/addresses.h"
#include "lib/rpc/server.h"
#include "lib/rpc/server_flags.h"

int main(int argc, char** argv) {
  // Imports and exports stream through here in ~1 MiB buffers.
  strata::TuneMallocForStreaming();
  // File names in layers are UTF-8: let libarchive convert them (the default "C" cannot).
  std::setlocale(LC_CTYPE, "C.UTF-8");
  strata::rpc::BlockTerminationSignals();
  CLI::App app{"strata-gateway: every Strata workflow as one RPC (strata.gateway.v1)"};
  strata::rpc::ServerOptions server_options{.listen = strata::rpc::kDefaultGatewayAddress};
  strata::rpc::AddServerFlags(app, server_options);
  strata::gateway::Endpoints endpoints{.layerstore = strata::rpc::kDefaultLayerstoreAddress,
                                       .imagegraph = strata::rpc::kDefaultImagegraphAddress,
                                       .runtime = strata::rpc::kDefaultRuntimeAddress};
  app.add_option("--layerstore", endpoints.layerstore, "Layerstore address")
      ->envname("STRATA_LAYERSTORE")
      ->capture_default_str();
  app.add_option("--imagegraph", endpoints.imagegraph, "Imagegraph address")
      ->envname("STRATA_IMAGEGRAPH")
      ->capture_default_str();
  app.add_option("--runtime", endpoints.runtime, "The runtime of this node")
      ->envname("STRATA_RUNTIME")
      ->capture_default_str();
  app.add_option("--services-tls-ca", endpoints.tls_ca_file,
                 "PEM CA to verify the services with (connect with TLS)");
  app.add_option("--services-tls-cert", endpoints.tls_cert_file,
                 "PEM client certificate for the services");
  app.add_option("--services-tls-key", endpoints.tls_key_file, "PEM client key for the services");
  app.add_option("--services-token-file", endpoints.token_file,
                 "File holding the services' bearer token");
  CLI11_PARSE(app, argc, argv);

  strata::gateway::Gateway gateway(endpoints);
  strata::gateway::GatewayService service(&gateway);
  // No workflow works without all three services: health follows theirs (checked every 2 s),
  // so imagegraph without its database makes the gateway NOT_SERVING too.
  return strata::rpc::ServeUntilSignalled(
      "strata-gateway", server_options,
      {{strata::gateway::v1::Gateway::service_full_name(), &service}},
      {{.name = "the services",
        .check = [&gateway] { return gateway.services().CheckHealth(); },
        .interval = absl::Seconds(2)}});
}
