#ifndef STRATA_SERVICES_IMAGEGRAPH_CORE_POSTGRES_ROWS_H_
#define STRATA_SERVICES_IMAGEGRAPH_CORE_POSTGRES_ROWS_H_

// What PostgresGraphStore's operations share: conversions between rows and the core's
// structs, and the queries several operations run inside their transaction (resolving a
// reference, loading images, an image's tags and children). Statements are those of
// postgres_sql.h; none of these functions commit.

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "lib/reference/reference.h"
#include "nlohmann/json.hpp"
#include "pqxx/pqxx"
#include "services/imagegraph/core/graph_rules.h"
#include "services/imagegraph/core/graph_store.h"

namespace strata::imagegraph::pg {

// Times go to PostgreSQL as RFC 3339 text at its precision (microseconds), "" for none.
std::string TimeText(const std::optional<absl::Time>& time);
// A column of microseconds since the epoch; nullopt for NULL.
std::optional<absl::Time> TimeFrom(const pqxx::field& field);
// A text column; "" for NULL.
std::string Str(const pqxx::field& field);
// JSON text for a parameter (invalid UTF-8 replaced, never thrown on).
std::string JsonText(const nlohmann::json& value);
// TimeText as JSON (null for none).
nlohmann::json TimeJson(const std::optional<absl::Time>& time);

// The row of "layer_get".
Layer LayerFromRow(const pqxx::row& row);
// The image columns of the resolution and loading statements, starting at column `first`.
Image ImageFromRow(const pqxx::row& row, int first);
// Loads images by id, in the order given; ids that do not exist are left out.
std::vector<Image> LoadImages(pqxx::transaction_base& tx, const std::vector<std::string>& ids);

// Runs a statement taking the resolution parameters for ref: "resolve_images", "resolve_ids"
// or "history_by_ref".
pqxx::result ExecResolve(pqxx::transaction_base& tx, const char* statement, const ImageRef& ref);
// The row a reference resolves to among a resolution statement's rows (rank in column 0, id
// in column 1), in the documented order: tag, full id, unique prefix.
// Errors: FAILED_PRECONDITION (ambiguous prefix), NOT_FOUND.
absl::StatusOr<size_t> PickResolved(const ImageRef& ref, const pqxx::result& rows);

// What a reference resolved to.
struct Resolved {
  std::string id;
  // Set when the reference named an existing tag (and resolved through it).
  std::optional<Reference> tag;
  // Set when it named an existing repository digest (and resolved through it).
  std::optional<Reference> repo_digest;
};

// Resolves a reference to an image id. Errors: as PickResolved.
absl::StatusOr<Resolved> Resolve(pqxx::transaction_base& tx, const ImageRef& ref);

// Whether the image has a name left: a tag or a repository digest.
bool HasTags(pqxx::transaction_base& tx, const std::string& id);
// Short ids of up to `limit` child images.
std::vector<std::string> Children(pqxx::transaction_base& tx, const std::string& id, int limit);

}  // namespace strata::imagegraph::pg

#endif  // STRATA_SERVICES_IMAGEGRAPH_CORE_POSTGRES_ROWS_H_
