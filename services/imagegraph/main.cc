// strata-imagegraph: serves strata.imagegraph.v1 over PostgreSQL.

#include <cstdlib>
#include <string>

#include "CLI/CLI.hpp"
#include "lib/base/log.h"
#include "lib/rpc/server.h"
#include "services/imagegraph/imagegraph_service.h"

int main(int argc, char** argv) {
  strata::rpc::BlockTerminationSignals();
  CLI::App app{"strata-imagegraph: layers, images, tags and history (strata.imagegraph.v1)"};
  strata::rpc::ServerOptions server_options{.listen = "127.0.0.1:7421"};
  strata::rpc::AddServerFlags(app, server_options);
  std::string database = "host=/var/lib/strata/postgres/run port=7430 user=strata dbname=strata";
  app.add_option("--database", database, "libpq connection string of the graph's database")
      ->envname("STRATA_DATABASE")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  strata::imagegraph::ImageGraphService service;
  return strata::rpc::ServeUntilSignalled("strata-imagegraph", server_options,
      {{strata::imagegraph::v1::ImageGraph::service_full_name(), &service}});
}
