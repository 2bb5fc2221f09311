// strata-imagegraph: serves strata.imagegraph.v1 over PostgreSQL.
//
// Start-up and the database: the schema is migrated at start when PostgreSQL answers. A
// database holding a newer schema than this binary knows is a refusal to start (exit 1). When
// PostgreSQL does not answer, the service starts anyway and says so: every call answers
// UNAVAILABLE until the database is back, and the first call that reaches it migrates the
// schema (a newer schema found then makes every call FAILED_PRECONDITION, with the reason).
// Connections lost later (a PostgreSQL restart) are reopened on the next call. Health
// (grpc.health.v1) is NOT_SERVING while the database does not answer, SERVING when it does.

#include <string>

#include "CLI/CLI.hpp"
#include "lib/base/log.h"
#include "lib/base/version.h"
#include "lib/rpc/addresses.h"
#include "lib/rpc/server.h"
#include "lib/rpc/server_flags.h"
#include "services/imagegraph/core/postgres_graph_store.h"
#include "services/imagegraph/imagegraph_service.h"

int main(int argc, char** argv) {
  strata::rpc::BlockTerminationSignals();
  CLI::App app{"strata-imagegraph: layers, images, tags and history (strata.imagegraph.v1)"};
  strata::rpc::ServerOptions server_options{.listen = strata::rpc::kDefaultImagegraphAddress};
  strata::rpc::AddServerFlags(app, server_options);
  strata::imagegraph::DatabaseOptions database;
  database.connection_string =
      "host=/var/lib/strata/postgres/run port=7430 user=strata dbname=strata";
  app.add_option("--database", database.connection_string,
                 "libpq connection string of the graph's database")
      ->envname("STRATA_DATABASE")
      ->capture_default_str();
  app.add_option("--database-connections", database.max_connections,
                 "PostgreSQL connections kept open at most")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  STRATA_LOG(INFO) << "strata-imagegraph " << strata::kVersion << " starting";
  strata::imagegraph::PostgresGraphStore store(database);
  const absl::Status migrated = store.Migrate();
  if (absl::IsUnavailable(migrated)) {
    STRATA_LOG(WARNING) << "PostgreSQL does not answer (" << migrated.message()
                        << "); serving anyway: calls answer UNAVAILABLE until it does, and the "
                           "schema is migrated on first contact";
  } else if (!migrated.ok()) {
    STRATA_LOG(ERROR) << "strata-imagegraph: refusing to start: " << migrated.message();
    return 1;
  }

  strata::imagegraph::ImageGraphService service(&store);
  // Nothing works without the database: health says so (NOT_SERVING) while it does not
  // answer, checked every 2 s.
  return strata::rpc::ServeUntilSignalled(
      "strata-imagegraph", server_options,
      {{strata::imagegraph::v1::ImageGraph::service_full_name(), &service}},
      {{.name = "PostgreSQL",
        .check = [&store] { return store.CheckDatabase(); },
        .interval = absl::Seconds(2)}});
}
