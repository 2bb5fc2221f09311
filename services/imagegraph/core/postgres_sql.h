#ifndef STRATA_SERVICES_IMAGEGRAPH_CORE_POSTGRES_SQL_H_
#define STRATA_SERVICES_IMAGEGRAPH_CORE_POSTGRES_SQL_H_

// The SQL of PostgresGraphStore: every statement it runs, by name, prepared on each pooled
// connection (parameterised: values are never spliced into SQL text).

#include <string>
#include <utility>
#include <vector>

namespace strata::imagegraph::pg {

// How many candidates an ambiguous prefix names (the resolution statements fetch one more).
inline constexpr int kMaxCandidates = 8;

// (name, SQL) of every prepared statement.
const std::vector<std::pair<std::string, std::string>>& Statements();

}  // namespace strata::imagegraph::pg

#endif  // STRATA_SERVICES_IMAGEGRAPH_CORE_POSTGRES_SQL_H_
