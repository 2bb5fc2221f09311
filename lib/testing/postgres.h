#ifndef STRATA_LIB_TESTING_POSTGRES_H_
#define STRATA_LIB_TESTING_POSTGRES_H_

// A throwaway PostgreSQL cluster for one test: initdb into a fresh directory under /tmp, a
// server listening on a unix socket only (no TCP port to collide on), removed on destruction.
// As root it runs as the "postgres" system user, since PostgreSQL refuses to run as root.

#include <sys/types.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"

namespace strata::testing {

class PostgresServer {
 public:
  // Errors: FAILED_PRECONDITION (PostgreSQL is not installed), INTERNAL (initdb or start
  // failed; the message holds their output).
  static absl::StatusOr<std::unique_ptr<PostgresServer>> Start();

  ~PostgresServer();

  // libpq connection string for the "postgres" database.
  std::string connection_string() const;
  // The same for another database of this cluster.
  std::string connection_string(const std::string& dbname) const;

  // Creates an empty database.
  absl::Status CreateDatabase(const std::string& name);

  // Fast shutdown / start of the same cluster (for tests of lost connections).
  absl::Status Stop();
  absl::Status Restart();

 private:
  PostgresServer() = default;
  absl::Status StartServer();

  std::string bin_dir_;
  std::string dir_;
  uid_t uid_ = -1;
  gid_t gid_ = -1;
  bool running_ = false;
};

// A test suite with a PostgreSQL cluster of its own, started once for the suite, and an
// empty database for each test that asks (NewDatabase).
class PostgresTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite();
  static void TearDownTestSuite();

  // Creates an empty database named prefix + a number; returns its name.
  std::string NewDatabase(const std::string& prefix);

  static PostgresServer* postgres() { return postgres_; }

 private:
  static PostgresServer* postgres_;
};

}  // namespace strata::testing

#endif  // STRATA_LIB_TESTING_POSTGRES_H_
