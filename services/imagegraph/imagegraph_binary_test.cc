// The strata-imagegraph binary against a real PostgreSQL that goes away and comes back:
// it starts while the database is down (answering UNAVAILABLE), migrates when it returns,
// rides through a restart, and refuses to start on a schema newer than it knows.

#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpcpp/client_context.h"
#include "gtest/gtest.h"
#include "lib/base/fs.h"
#include "lib/rpc/client.h"
#include "lib/rpc/health.h"
#include "lib/testing/postgres.h"
#include "lib/testing/service_process.h"
#include "lib/testing/subprocess.h"
#include "pqxx/pqxx"
#include "services/imagegraph/core/test_images.h"
#include "strata/imagegraph/v1/imagegraph.grpc.pb.h"

namespace strata::imagegraph {
namespace {

namespace pb = ::strata::imagegraph::v1;
using strata::testing::PostgresServer;
using strata::testing::RunfilePath;
using strata::testing::ServiceProcess;
using ::testing::HasSubstr;

const char kBinary[] = "services/imagegraph/strata-imagegraph";

std::unique_ptr<pb::ImageGraph::Stub> Connect(const ServiceProcess& process) {
  auto channel = rpc::Dial({.address = process.address()});
  EXPECT_TRUE(channel.ok());
  return pb::ImageGraph::NewStub(*channel);
}

grpc::Status GetImage(pb::ImageGraph::Stub& stub, const std::string& ref) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  pb::GetImageRequest request;
  request.set_ref(ref);
  pb::GetImageResponse response;
  return stub.GetImage(&context, request, &response);
}

grpc::Status CreateImage(pb::ImageGraph::Stub& stub, const testing::TestImage& image,
                         const std::string& tag) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  pb::CreateImageResponse response;
  return stub.CreateImage(&context, testing::CreateRequest(image, "", {tag}), &response);
}

TEST(ImageGraphBinaryTest, StartsWhileDatabaseIsDownAndRidesThroughRestarts) {
  auto postgres = PostgresServer::Start();
  ASSERT_TRUE(postgres.ok()) << postgres.status();
  ASSERT_TRUE((*postgres)->CreateDatabase("graph").ok());
  ASSERT_TRUE((*postgres)->Stop().ok());

  auto process = ServiceProcess::Start(RunfilePath(kBinary),
                                       {"--database=" + (*postgres)->connection_string("graph")});
  ASSERT_TRUE(process.ok()) << process.status();
  auto stub = Connect(**process);
  auto channel = rpc::Dial({.address = (*process)->address()});
  // It answers, but says it cannot serve: nothing works without the database.
  auto health = rpc::CheckHealth(*channel, "");
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(*health, "NOT_SERVING");

  grpc::Status down = GetImage(*stub, "app:1");
  EXPECT_EQ(down.error_code(), grpc::StatusCode::UNAVAILABLE) << down.error_message();
  EXPECT_THAT(down.error_message(), HasSubstr("database"));
  auto log = ReadFile((*process)->log_path());
  ASSERT_TRUE(log.ok());
  EXPECT_THAT(*log, HasSubstr("PostgreSQL does not answer"));

  // The database comes back: the first call migrates the schema and is answered.
  ASSERT_TRUE((*postgres)->Restart().ok());
  grpc::Status missing = GetImage(*stub, "app:1");
  EXPECT_EQ(missing.error_code(), grpc::StatusCode::NOT_FOUND) << missing.error_message();
  testing::TestImage image = testing::BaseImage("binary", 2, testing::TestTime(0));
  ASSERT_TRUE(CreateImage(*stub, image, "app:1").ok());

  // A restart while serving: the next calls reconnect.
  ASSERT_TRUE((*postgres)->Restart().ok());
  for (int i = 0; i < 3; ++i) {
    grpc::Status status = GetImage(*stub, "app:1");
    EXPECT_TRUE(status.ok()) << status.error_message();
  }
  // Down again: UNAVAILABLE, and the process is still there afterwards.
  ASSERT_TRUE((*postgres)->Stop().ok());
  EXPECT_EQ(GetImage(*stub, "app:1").error_code(), grpc::StatusCode::UNAVAILABLE);
  ASSERT_TRUE((*postgres)->Restart().ok());
  EXPECT_TRUE(GetImage(*stub, "app:1").ok());
  EXPECT_EQ((*process)->Stop(), 0);
}

// Polls the health of `service` until it is `want` or `timeout` passes; returns how long it
// took, or nothing on timeout.
std::optional<absl::Duration> WaitForHealth(const std::shared_ptr<grpc::Channel>& channel,
                                            const std::string& service, const std::string& want,
                                            absl::Duration timeout) {
  const absl::Time start = absl::Now();
  while (absl::Now() - start < timeout) {
    absl::StatusOr<std::string> health = rpc::CheckHealth(channel, service);
    if (health.ok() && *health == want) return absl::Now() - start;
    absl::SleepFor(absl::Milliseconds(100));
  }
  return std::nullopt;
}

TEST(ImageGraphBinaryTest, HealthFollowsTheDatabase) {
  auto postgres = PostgresServer::Start();
  ASSERT_TRUE(postgres.ok()) << postgres.status();
  ASSERT_TRUE((*postgres)->CreateDatabase("graph").ok());
  auto process = ServiceProcess::Start(RunfilePath(kBinary),
                                       {"--database=" + (*postgres)->connection_string("graph")});
  ASSERT_TRUE(process.ok()) << process.status();
  auto channel = rpc::Dial({.address = (*process)->address()});
  ASSERT_TRUE(channel.ok());
  const std::string service = pb::ImageGraph::service_full_name();
  for (const std::string& name : {std::string(), service}) {
    auto health = rpc::CheckHealth(*channel, name);
    ASSERT_TRUE(health.ok()) << health.status();
    EXPECT_EQ(*health, "SERVING") << name;
  }

  ASSERT_TRUE((*postgres)->Stop().ok());
  std::optional<absl::Duration> down =
      WaitForHealth(*channel, service, "NOT_SERVING", absl::Seconds(10));
  ASSERT_TRUE(down.has_value()) << "still SERVING 10 s after PostgreSQL stopped";
  std::cout << "NOT_SERVING " << absl::FormatDuration(*down) << " after PostgreSQL stopped\n";
  EXPECT_LT(*down, absl::Seconds(5));
  EXPECT_EQ(*rpc::CheckHealth(*channel, ""), "NOT_SERVING");

  ASSERT_TRUE((*postgres)->Restart().ok());
  std::optional<absl::Duration> up = WaitForHealth(*channel, service, "SERVING", absl::Seconds(10));
  ASSERT_TRUE(up.has_value()) << "still NOT_SERVING 10 s after PostgreSQL came back";
  std::cout << "SERVING " << absl::FormatDuration(*up) << " after PostgreSQL came back\n";
  EXPECT_LT(*up, absl::Seconds(5));
  EXPECT_EQ(*rpc::CheckHealth(*channel, ""), "SERVING");
  EXPECT_EQ((*process)->Stop(), 0);
}

TEST(ImageGraphBinaryTest, RefusesToStartOnANewerSchema) {
  auto postgres = PostgresServer::Start();
  ASSERT_TRUE(postgres.ok()) << postgres.status();
  ASSERT_TRUE((*postgres)->CreateDatabase("graph").ok());
  const std::string database = (*postgres)->connection_string("graph");
  {
    // A first binary migrates the empty database.
    auto process = ServiceProcess::Start(RunfilePath(kBinary), {"--database=" + database});
    ASSERT_TRUE(process.ok()) << process.status();
    auto log = ReadFile((*process)->log_path());
    ASSERT_TRUE(log.ok());
    EXPECT_THAT(*log, HasSubstr("schema migrated from version 0"));
  }
  {
    pqxx::connection connection(database);
    pqxx::work tx(connection);
    tx.exec("INSERT INTO schema_version (version, description) VALUES (1000, 'future')");
    tx.commit();
  }
  auto refused = ServiceProcess::Start(RunfilePath(kBinary), {"--database=" + database});
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.status().message(), HasSubstr("refusing to start"));
  EXPECT_THAT(refused.status().message(), HasSubstr("schema version 1000"));
}

}  // namespace
}  // namespace strata::imagegraph
