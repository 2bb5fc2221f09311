// strata-layerstore: serves strata.layerstore.v1 over a blob directory.

#include <memory>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/time/time.h"
#include "lib/base/log.h"
#include "lib/base/malloc_tuning.h"
#include "lib/rpc/addresses.h"
#include "lib/rpc/server.h"
#include "lib/rpc/server_flags.h"
#include "services/layerstore/core/fs_blob_store.h"
#include "services/layerstore/core/upload_janitor.h"
#include "services/layerstore/layerstore_service.h"

int main(int argc, char** argv) {
  strata::TuneMallocForStreaming();
  strata::rpc::BlockTerminationSignals();
  CLI::App app{"strata-layerstore: content-addressed layer blobs (strata.layerstore.v1)"};
  // A quota keeps gRPC's receive windows from growing: the service's memory stays bounded
  // however many uploads stream at once (a 1 GiB upload peaks ~25 MiB above idle with it).
  strata::rpc::ServerOptions server_options{.listen = strata::rpc::kDefaultLayerstoreAddress,
                                            .grpc_memory_limit = 32 << 20};
  strata::rpc::AddServerFlags(app, server_options);
  std::string root = "/var/lib/strata/layerstore";
  app.add_option("--root", root, "Directory of blobs/ and ingest/")->capture_default_str();
  std::string ingest_max_age = "24h";
  app.add_option("--ingest-max-age", ingest_max_age,
                 "Discard uploads that received nothing for this long (e.g. 30m, 24h)")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  absl::Duration max_age;
  if (!absl::ParseDuration(ingest_max_age, &max_age) || max_age <= absl::ZeroDuration()) {
    STRATA_LOG(ERROR) << "--ingest-max-age \"" << ingest_max_age
                      << "\": not a positive duration (e.g. 90s, 30m, 24h)";
    return 1;
  }
  auto store = strata::layerstore::FsBlobStore::Open(root);
  if (!store.ok()) {
    STRATA_LOG(ERROR) << "--root: " << store.status().message();
    return 1;
  }
  strata::layerstore::UploadJanitor janitor(
      store->get(), max_age, strata::layerstore::UploadJanitor::IntervalFor(max_age));
  strata::layerstore::LayerStoreService service(store->get());
  return strata::rpc::ServeUntilSignalled(
      "strata-layerstore", server_options,
      {{strata::layerstore::v1::LayerStore::service_full_name(), &service}});
}
