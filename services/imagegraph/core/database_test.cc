// Database: transactions that commit on OK, libpqxx errors turned into codes, retries of
// deadlocks and ABORTED bodies, UNAVAILABLE while the server is down, reconnection after a
// restart. Against a real PostgreSQL.

#include "services/imagegraph/core/database.h"

#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/barrier.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/testing/postgres.h"

namespace strata::imagegraph {
namespace {

using ::testing::HasSubstr;

class DatabaseTest : public strata::testing::PostgresTest {
 protected:
  void SetUp() override {
    ASSERT_NE(postgres(), nullptr);
    const std::string name = NewDatabase("db");
    DatabaseOptions options;
    options.connection_string = postgres()->connection_string(name);
    options.max_connections = 4;
    options.max_attempts = 3;
    database_ = std::make_unique<Database>(options);
    ASSERT_TRUE(Exec("CREATE TABLE t (id integer PRIMARY KEY, v integer NOT NULL)").ok());
    ASSERT_TRUE(Exec("INSERT INTO t VALUES (1, 0), (2, 0)").ok());
  }

  absl::Status Exec(const std::string& sql) {
    return database_->RunInTransaction(Access::kReadWrite, [&](pqxx::transaction_base& tx) {
      tx.exec(sql);
      return absl::OkStatus();
    });
  }

  int Count() {
    int count = -1;
    absl::Status status =
        database_->RunInTransaction(Access::kReadOnly, [&](pqxx::transaction_base& tx) {
          count = tx.exec("SELECT count(*) FROM t")[0][0].as<int>();
          return absl::OkStatus();
        });
    EXPECT_TRUE(status.ok()) << status;
    return count;
  }

  std::unique_ptr<Database> database_;
};

TEST_F(DatabaseTest, CommitsOnOkAndRollsBackOtherwise) {
  ASSERT_TRUE(Exec("INSERT INTO t VALUES (3, 0)").ok());
  EXPECT_EQ(Count(), 3);
  absl::Status status =
      database_->RunInTransaction(Access::kReadWrite, [](pqxx::transaction_base& tx) {
        tx.exec("INSERT INTO t VALUES (4, 0)");
        return absl::NotFoundError("changed my mind");
      });
  EXPECT_EQ(status, absl::NotFoundError("changed my mind"));
  EXPECT_EQ(Count(), 3);
  // A read-only transaction cannot write.
  status = database_->RunInTransaction(Access::kReadOnly, [](pqxx::transaction_base& tx) {
    tx.exec("INSERT INTO t VALUES (5, 0)");
    return absl::OkStatus();
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal) << status;
  EXPECT_EQ(Count(), 3);
}

TEST_F(DatabaseTest, TurnsDatabaseErrorsIntoCodes) {
  absl::Status duplicate = Exec("INSERT INTO t VALUES (1, 0)");
  EXPECT_EQ(duplicate.code(), absl::StatusCode::kAlreadyExists) << duplicate;
  EXPECT_THAT(duplicate.message(), HasSubstr("t_pkey"));
  absl::Status bad_input = Exec("INSERT INTO t VALUES ('one', 0)");
  EXPECT_EQ(bad_input.code(), absl::StatusCode::kInvalidArgument) << bad_input;
  absl::Status not_null = Exec("INSERT INTO t VALUES (7, NULL)");
  EXPECT_EQ(not_null.code(), absl::StatusCode::kInvalidArgument) << not_null;
  absl::Status syntax = Exec("SELEKT 1");
  EXPECT_EQ(syntax.code(), absl::StatusCode::kInternal) << syntax;
  EXPECT_THAT(syntax.message(), HasSubstr("42601"));
  absl::Status thrown = database_->RunInTransaction(
      Access::kReadWrite,
      [](pqxx::transaction_base&) -> absl::Status { throw std::runtime_error("boom"); });
  EXPECT_EQ(thrown.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(thrown.message(), HasSubstr("boom"));
  // Parameters are never SQL.
  absl::Status parameter =
      database_->RunInTransaction(Access::kReadWrite, [](pqxx::transaction_base& tx) {
        tx.exec_params("INSERT INTO t VALUES (8, length($1))", "1); DROP TABLE t; --");
        return absl::OkStatus();
      });
  EXPECT_TRUE(parameter.ok()) << parameter;
  EXPECT_EQ(Count(), 3);
}

TEST_F(DatabaseTest, RetriesAbortedBodiesThenGivesUp) {
  int attempts = 0;
  absl::Status status =
      database_->RunInTransaction(Access::kReadWrite, [&](pqxx::transaction_base& tx) {
        tx.exec("UPDATE t SET v = v + 1 WHERE id = 1");
        return ++attempts < 3 ? absl::AbortedError("not yet") : absl::OkStatus();
      });
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_EQ(attempts, 3);
  int v = 0;
  ASSERT_TRUE(database_
                  ->RunInTransaction(Access::kReadOnly,
                                     [&](pqxx::transaction_base& tx) {
                                       v = tx.exec("SELECT v FROM t WHERE id = 1")[0][0].as<int>();
                                       return absl::OkStatus();
                                     })
                  .ok());
  EXPECT_EQ(v, 1);  // Only the committed attempt counts.

  attempts = 0;
  status = database_->RunInTransaction(Access::kReadWrite, [&](pqxx::transaction_base&) {
    ++attempts;
    return absl::AbortedError("never");
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kAborted);
  EXPECT_THAT(status.message(), HasSubstr("gave up after 3 attempts"));
  EXPECT_EQ(attempts, 3);
}

TEST_F(DatabaseTest, RetriesTheVictimOfADeadlock) {
  absl::Barrier* barrier = new absl::Barrier(2);
  std::atomic<int> attempts{0};
  auto cross = [&](int first, int second) {
    std::atomic<bool> waited{false};
    return database_->RunInTransaction(Access::kReadWrite, [&](pqxx::transaction_base& tx) {
      ++attempts;
      tx.exec_params("UPDATE t SET v = v + 1 WHERE id = $1", first);
      if (!waited.exchange(true) && barrier->Block()) delete barrier;
      tx.exec_params("UPDATE t SET v = v + 1 WHERE id = $1", second);
      return absl::OkStatus();
    });
  };
  absl::Status a;
  absl::Status b;
  std::thread one([&] { a = cross(1, 2); });
  std::thread two([&] { b = cross(2, 1); });
  one.join();
  two.join();
  EXPECT_TRUE(a.ok()) << a;
  EXPECT_TRUE(b.ok()) << b;
  EXPECT_EQ(attempts.load(), 3);  // The deadlock victim ran twice.
  int total = 0;
  ASSERT_TRUE(database_
                  ->RunInTransaction(Access::kReadOnly,
                                     [&](pqxx::transaction_base& tx) {
                                       total = tx.exec("SELECT sum(v) FROM t")[0][0].as<int>();
                                       return absl::OkStatus();
                                     })
                  .ok());
  EXPECT_EQ(total, 4);
}

TEST_F(DatabaseTest, UnavailableWhileDownThenReconnects) {
  EXPECT_EQ(Count(), 2);  // A pooled connection exists now.
  ASSERT_TRUE(postgres()->Stop().ok());
  const absl::Time start = absl::Now();
  absl::Status down = Exec("UPDATE t SET v = 1");
  EXPECT_EQ(down.code(), absl::StatusCode::kUnavailable) << down;
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
  ASSERT_TRUE(postgres()->Restart().ok());
  EXPECT_EQ(Count(), 2);

  // A restart behind idle connections: the next call reconnects by itself.
  ASSERT_TRUE(postgres()->Restart().ok());
  EXPECT_TRUE(Exec("UPDATE t SET v = 2").ok());

  DatabaseOptions nowhere;
  nowhere.connection_string = "host=/nonexistent user=postgres dbname=postgres";
  Database unreachable(nowhere);
  absl::Status status = unreachable.RunInTransaction(
      Access::kReadOnly, [](pqxx::transaction_base&) { return absl::OkStatus(); });
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(status.message(), HasSubstr("cannot connect"));
}

TEST(ToArrayLiteralTest, QuotesEveryElement) {
  EXPECT_EQ(ToArrayLiteral({}), "{}");
  EXPECT_EQ(ToArrayLiteral({"a", "b\"c", "d\\e", "x,y", "NULL"}),
            "{\"a\",\"b\\\"c\",\"d\\\\e\",\"x,y\",\"NULL\"}");
}

}  // namespace
}  // namespace strata::imagegraph
