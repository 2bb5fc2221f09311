#ifndef STRATA_SERVICES_IMAGEGRAPH_CORE_SCHEMA_H_
#define STRATA_SERVICES_IMAGEGRAPH_CORE_SCHEMA_H_

// The image graph's PostgreSQL schema, versioned. Each migration is applied once, in order,
// in one transaction together with its row in schema_version; replicas starting together
// serialize on an advisory lock.

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "services/imagegraph/core/database.h"

namespace strata::imagegraph {

// The newest schema version this binary knows.
int LatestSchemaVersion();

// Brings the database to LatestSchemaVersion().
// Errors: FAILED_PRECONDITION (the database holds a newer schema than this binary knows:
// upgrade the binary), UNAVAILABLE (database unreachable), INTERNAL (a migration failed; the
// database is left as it was).
absl::Status MigrateSchema(Database& database);

// The version the database holds (0: no schema yet). Errors: as RunInTransaction.
absl::StatusOr<int> CurrentSchemaVersion(Database& database);

}  // namespace strata::imagegraph

#endif  // STRATA_SERVICES_IMAGEGRAPH_CORE_SCHEMA_H_
