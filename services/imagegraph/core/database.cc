#include "services/imagegraph/core/database.h"

#include <random>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "lib/base/log.h"

namespace strata::imagegraph {
namespace {

// How one attempt of a transaction ended.
struct Outcome {
  absl::Status status;
  // Worth another attempt.
  bool retry = false;
  // The connection is unusable: close it (and the idle ones, likely as stale).
  bool broken = false;
};

std::string What(const std::exception& e) {
  return std::string(absl::StripTrailingAsciiWhitespace(e.what()));
}

// libpq keyword/value strings get a connect timeout (a down server must not hang callers),
// TCP keepalives and an application name (so pg_stat_activity shows who we are). URIs are
// left alone.
std::string WithDefaults(const std::string& connection_string) {
  if (absl::StartsWith(connection_string, "postgres://") ||
      absl::StartsWith(connection_string, "postgresql://")) {
    return connection_string;
  }
  std::string out = connection_string;
  if (!absl::StrContains(out, "connect_timeout")) absl::StrAppend(&out, " connect_timeout=5");
  // Over TCP, notice a peer that vanished (no FIN) in about a minute, not hours.
  if (!absl::StrContains(out, "keepalives")) {
    absl::StrAppend(&out, " keepalives_idle=30 keepalives_interval=10 keepalives_count=3");
  }
  if (!absl::StrContains(out, "application_name")) {
    absl::StrAppend(&out, " application_name=strata-imagegraph");
  }
  return out;
}

// Classifies a database error by its SQLSTATE.
Outcome FromSqlError(const pqxx::sql_error& e) {
  const std::string& state = e.sqlstate();
  const std::string message = What(e);
  if (state == "40001" || state == "40P01") {
    return {absl::AbortedError(absl::StrCat("a concurrent change won: ", message)), true};
  }
  if (state == "23503") {
    // Our statements check what they refer to first; a foreign key failing afterwards means
    // a concurrent transaction removed it. Another attempt sees the new state.
    return {absl::AbortedError(absl::StrCat("a concurrent change won: ", message)), true};
  }
  if (state == "23505") return {absl::AlreadyExistsError(message)};
  if (absl::StartsWith(state, "08") || state == "57P01" || state == "57P02" || state == "57P03" ||
      state == "53300") {
    return {absl::UnavailableError(absl::StrCat("database unavailable: ", message)), true, true};
  }
  if (absl::StartsWith(state, "22") || state == "23514" || state == "23502") {
    return {absl::InvalidArgumentError(absl::StrCat("the database refused the data: ", message))};
  }
  if (absl::StartsWith(state, "53")) {
    return {absl::ResourceExhaustedError(absl::StrCat("database out of resources: ", message))};
  }
  return {absl::InternalError(absl::StrCat("database error (SQLSTATE ", state, "): ", message))};
}

Outcome RunOnce(pqxx::connection& connection, Access access, const Database::Body& body) {
  try {
    std::unique_ptr<pqxx::transaction_base> tx;
    if (access == Access::kReadWrite) {
      tx = std::make_unique<pqxx::work>(connection);
    } else if (access == Access::kSingleStatement) {
      tx = std::make_unique<pqxx::nontransaction>(connection);
    } else {
      tx = std::make_unique<pqxx::transaction<pqxx::repeatable_read, pqxx::read_only>>(connection);
    }
    absl::Status status = body(*tx);
    if (!status.ok()) {
      tx->abort();
      return {status, status.code() == absl::StatusCode::kAborted};
    }
    tx->commit();
    return {absl::OkStatus()};
  } catch (const pqxx::in_doubt_error& e) {
    return {absl::UnavailableError(absl::StrCat(
                "database connection lost while committing, the outcome is unknown: ", What(e))),
            false, true};
  } catch (const pqxx::broken_connection& e) {
    return {absl::UnavailableError(absl::StrCat("database unavailable: ", What(e))), true, true};
  } catch (const pqxx::statement_completion_unknown& e) {
    return {absl::UnavailableError(absl::StrCat("database statement outcome unknown: ", What(e))),
            false, true};
  } catch (const pqxx::transaction_rollback& e) {
    // serialization_failure, deadlock_detected.
    return {absl::AbortedError(absl::StrCat("a concurrent change won: ", What(e))), true};
  } catch (const pqxx::sql_error& e) {
    return FromSqlError(e);
  } catch (const std::exception& e) {
    return {absl::InternalError(absl::StrCat("database client error: ", What(e)))};
  }
}

void Backoff(int attempt) {
  thread_local std::minstd_rand random(std::random_device{}());
  std::uniform_int_distribution<int> jitter(1, 10);
  std::this_thread::sleep_for(std::chrono::milliseconds(jitter(random) * (attempt - 1)));
}

}  // namespace

std::string ToArrayLiteral(const std::vector<std::string>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out.push_back(',');
    out.push_back('"');
    for (char c : values[i]) {
      if (c == '"' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    out.push_back('"');
  }
  out.push_back('}');
  return out;
}

Database::Database(DatabaseOptions options)
    : options_(std::move(options)), connection_string_(WithDefaults(options_.connection_string)) {}

Database::~Database() {
  absl::MutexLock lock(&mu_);
  idle_.clear();
}

absl::StatusOr<std::unique_ptr<pqxx::connection>> Database::Connect() {
  try {
    auto connection = std::make_unique<pqxx::connection>(connection_string_);
    for (const auto& [name, sql] : options_.prepared_statements) connection->prepare(name, sql);
    return connection;
  } catch (const pqxx::broken_connection& e) {
    return absl::UnavailableError(absl::StrCat("cannot connect to the database: ", What(e)));
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("cannot connect to the database: ", What(e)));
  }
}

absl::StatusOr<std::unique_ptr<pqxx::connection>> Database::Acquire() {
  {
    absl::MutexLock lock(&mu_);
    auto available = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return !idle_.empty() || open_ < options_.max_connections;
    };
    if (!mu_.AwaitWithTimeout(absl::Condition(&available), options_.acquire_timeout)) {
      return absl::UnavailableError(absl::StrCat("all ", options_.max_connections,
                                                 " database connections stayed busy for ",
                                                 absl::FormatDuration(options_.acquire_timeout)));
    }
    if (!idle_.empty()) {
      std::unique_ptr<pqxx::connection> connection = std::move(idle_.back());
      idle_.pop_back();
      return connection;
    }
    ++open_;  // Reserve the slot; connect outside the lock.
  }
  absl::StatusOr<std::unique_ptr<pqxx::connection>> connection = Connect();
  if (!connection.ok()) {
    absl::MutexLock lock(&mu_);
    --open_;
  }
  return connection;
}

void Database::Release(std::unique_ptr<pqxx::connection> connection, bool broken) {
  std::vector<std::unique_ptr<pqxx::connection>> closing;  // Closed outside the lock.
  absl::MutexLock lock(&mu_);
  if (broken) {
    --open_;
    closing.push_back(std::move(connection));
    // A broken connection usually means the server restarted: the idle ones are stale too.
    open_ -= static_cast<int>(idle_.size());
    for (auto& idle : idle_) closing.push_back(std::move(idle));
    idle_.clear();
    return;
  }
  idle_.push_back(std::move(connection));
}

absl::Status Database::RunInTransaction(Access access, const Body& body) {
  Outcome outcome;
  for (int attempt = 1; attempt <= options_.max_attempts; ++attempt) {
    if (attempt > 1) Backoff(attempt);
    absl::StatusOr<std::unique_ptr<pqxx::connection>> connection = Acquire();
    if (!connection.ok()) return connection.status();
    outcome = RunOnce(**connection, access, body);
    if (outcome.broken) {
      STRATA_LOG(WARNING) << "database connection dropped: " << outcome.status.message();
    }
    Release(std::move(*connection), outcome.broken);
    if (!outcome.retry) return outcome.status;
  }
  if (outcome.status.code() == absl::StatusCode::kAborted) {
    return absl::AbortedError(absl::StrCat(outcome.status.message(), " (gave up after ",
                                           options_.max_attempts, " attempts; retry)"));
  }
  return outcome.status;
}

}  // namespace strata::imagegraph
