// strata-layerstore: serves strata.layerstore.v1 over a blob directory.

#include <string>

#include "CLI/CLI.hpp"
#include "lib/base/fs.h"
#include "lib/base/log.h"
#include "lib/rpc/server.h"
#include "services/layerstore/layerstore_service.h"

int main(int argc, char** argv) {
  strata::rpc::BlockTerminationSignals();
  CLI::App app{"strata-layerstore: content-addressed layer blobs (strata.layerstore.v1)"};
  strata::rpc::ServerOptions server_options{.listen = "127.0.0.1:7420"};
  strata::rpc::AddServerFlags(app, server_options);
  std::string root = "/var/lib/strata/layerstore";
  app.add_option("--root", root, "Directory of blobs/ and ingest/")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  if (absl::Status status = strata::MakeDirs(root); !status.ok()) {
    STRATA_LOG(ERROR) << "--root: " << status.message();
    return 1;
  }
  strata::layerstore::LayerStoreService service;
  return strata::rpc::ServeUntilSignalled("strata-layerstore", server_options,
      {{strata::layerstore::v1::LayerStore::service_full_name(), &service}});
}
