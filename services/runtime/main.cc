// strata-runtime: serves strata.runtime.v1 on this node.

#include <string>

#include "CLI/CLI.hpp"
#include "lib/base/fs.h"
#include "lib/base/log.h"
#include "lib/rpc/server.h"
#include "services/runtime/runtime_service.h"

int main(int argc, char** argv) {
  strata::rpc::BlockTerminationSignals();
  CLI::App app{"strata-runtime: containers on this node (strata.runtime.v1)"};
  strata::rpc::ServerOptions server_options{.listen = "127.0.0.1:7422"};
  strata::rpc::AddServerFlags(app, server_options);
  std::string root = "/var/lib/strata/runtime";
  app.add_option("--root", root, "Node state: snapshots, containers, runc state")
      ->capture_default_str();
  std::string layerstore = "127.0.0.1:7420";
  app.add_option("--layerstore", layerstore, "Layerstore address (layers are pulled from and "
                 "commits pushed to it)")
      ->envname("STRATA_LAYERSTORE")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  if (absl::Status status = strata::MakeDirs(root, 0700); !status.ok()) {
    STRATA_LOG(ERROR) << "--root: " << status.message();
    return 1;
  }
  strata::runtime::RuntimeService service;
  return strata::rpc::ServeUntilSignalled("strata-runtime", server_options,
      {{strata::runtime::v1::Runtime::service_full_name(), &service}});
}
