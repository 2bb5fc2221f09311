#ifndef STRATA_SERVICES_IMAGEGRAPH_CORE_DATABASE_H_
#define STRATA_SERVICES_IMAGEGRAPH_CORE_DATABASE_H_

// PostgreSQL access for the image graph over libpqxx 6.4: a small connection pool and
// transactions run as a lambda that commits when it returns OK. This is the edge where
// libpqxx's exceptions become absl::Status; none ever leaves it.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "pqxx/pqxx"

namespace strata::imagegraph {

struct DatabaseOptions {
  // libpq connection string ("host=/run/pg dbname=strata user=strata" or a URI).
  std::string connection_string;
  // Connections kept open at most; callers beyond wait for one.
  int max_connections = 8;
  // How long a caller waits for a free connection before UNAVAILABLE.
  absl::Duration acquire_timeout = absl::Seconds(10);
  // Attempts of a transaction that hits a serialization failure, a deadlock, a concurrent
  // delete or a lost connection, before giving up.
  int max_attempts = 5;
  // Statements prepared on every connection: name, SQL.
  std::vector<std::pair<std::string, std::string>> prepared_statements;
};

// What a transaction may do.
enum class Access {
  // READ COMMITTED, read-write: statements see what committed before each of them; use row
  // locks and single-statement upserts for races.
  kReadWrite,
  // REPEATABLE READ, read-only: one snapshot for every statement (consistent multi-query
  // reads; such transactions never fail to serialize).
  kReadOnly,
  // No transaction block: for a body that runs one read-only statement (atomic by itself),
  // saving the BEGIN and COMMIT round trips.
  kSingleStatement,
};

// A pool of connections to one database, and transactions over it. Thread-safe.
class Database {
 public:
  // The body of a transaction: returns OK to commit, anything else to roll back. Returning
  // ABORTED asks for another attempt (e.g. a row it needed vanished under it). It may throw
  // libpqxx exceptions; they are caught and converted by RunInTransaction.
  using Body = std::function<absl::Status(pqxx::transaction_base&)>;

  explicit Database(DatabaseOptions options);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Runs body in a transaction on a pooled connection, and commits when it returns OK.
  // Retries on serialization failures, deadlocks, foreign-key races, ABORTED from body, and
  // connections found broken (a restarted server), with a fresh connection and a short
  // backoff, up to max_attempts.
  // Errors: body's status; UNAVAILABLE (cannot connect, connection lost at commit: outcome
  // unknown, no free connection in time), ABORTED (retries exhausted), ALREADY_EXISTS
  // (unique violation), INVALID_ARGUMENT (data the database refused: bad encoding, values out
  // of range), INTERNAL (any other database error, with its message).
  absl::Status RunInTransaction(Access access, const Body& body);

 private:
  // Takes an idle connection, or opens one while fewer than max_connections exist, or waits.
  // Errors: UNAVAILABLE.
  absl::StatusOr<std::unique_ptr<pqxx::connection>> Acquire();
  // Returns a connection to the pool; a broken one is closed instead.
  void Release(std::unique_ptr<pqxx::connection> connection, bool broken);
  absl::StatusOr<std::unique_ptr<pqxx::connection>> Connect();

  const DatabaseOptions options_;
  std::string connection_string_;
  absl::Mutex mu_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_ ABSL_GUARDED_BY(mu_);
  int open_ ABSL_GUARDED_BY(mu_) = 0;
};

// "{a,b}" for a text[] parameter: each element double-quoted with backslash escapes.
std::string ToArrayLiteral(const std::vector<std::string>& values);

}  // namespace strata::imagegraph

#endif  // STRATA_SERVICES_IMAGEGRAPH_CORE_DATABASE_H_
