// Each service binary starts on port 0, reports SERVING for itself and for the whole server,
// and lists its service with every method through server reflection to a foreign client.

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "lib/rpc/client.h"
#include "lib/rpc/health.h"
#include "lib/testing/postgres.h"
#include "lib/testing/service_process.h"
#include "lib/testing/subprocess.h"
#include "lib/testing/temp_dir.h"

namespace strata {
namespace {

using testing::RunfilePath;
using testing::ServiceProcess;

// expected_health: what health says (the gateway's follows the services it needs).
void ExpectServingWithReflection(const ServiceProcess& process, const std::string& service,
                                 const std::vector<std::string>& some_methods,
                                 const std::string& expected_health = "SERVING") {
  auto channel = rpc::Dial({.address = process.address()});
  ASSERT_TRUE(channel.ok());
  auto whole = rpc::CheckHealth(*channel, "");
  ASSERT_TRUE(whole.ok()) << whole.status();
  EXPECT_EQ(*whole, expected_health);
  auto own = rpc::CheckHealth(*channel, service);
  ASSERT_TRUE(own.ok()) << own.status();
  EXPECT_EQ(*own, expected_health);

  auto listing = testing::Run({RunfilePath("tests/reflection/reflection_check.py"),
                               process.address(), service, "grpc.health.v1.Health"});
  ASSERT_TRUE(listing.ok()) << listing.status();
  EXPECT_EQ(listing->exit_code, 0) << listing->output;
  for (const std::string& method : some_methods) {
    EXPECT_NE(listing->output.find(service + "/" + method + "\n"), std::string::npos)
        << method << " not listed:\n"
        << listing->output;
  }
}

TEST(ServiceBinariesTest, LayerstoreServes) {
  testing::TempDir root("layerstore");
  auto process = ServiceProcess::Start(
      RunfilePath("services/layerstore/strata-layerstore"), {"--root=" + root.path()});
  ASSERT_TRUE(process.ok()) << process.status();
  ExpectServingWithReflection(**process, "strata.layerstore.v1.LayerStore",
                              {"Stat", "Read", "Write", "WriteStatus", "AbortWrite", "Delete",
                               "List", "CreateLease", "RenewLease", "DeleteLease", "ListLeases",
                               "CollectGarbage"});
}

TEST(ServiceBinariesTest, ImagegraphServes) {
  auto postgres = testing::PostgresServer::Start();
  ASSERT_TRUE(postgres.ok()) << postgres.status();
  auto process =
      ServiceProcess::Start(RunfilePath("services/imagegraph/strata-imagegraph"),
                            {"--database=" + (*postgres)->connection_string()});
  ASSERT_TRUE(process.ok()) << process.status();
  ExpectServingWithReflection(**process, "strata.imagegraph.v1.ImageGraph",
                              {"PutLayer", "GetLayer", "CreateImage", "GetImage", "ListImages",
                               "Tag", "Untag", "DeleteImage", "HoldImage", "ReleaseImage",
                               "ListHolds", "History", "ListChildren", "ListReferencedBlobs"});
}

TEST(ServiceBinariesTest, RuntimeServes) {
  testing::TempDir root("runtime");
  auto process = ServiceProcess::Start(RunfilePath("services/runtime/strata-runtime"),
                                       {"--root=" + root.path(), "--layerstore=127.0.0.1:1"});
  ASSERT_TRUE(process.ok()) << process.status();
  ExpectServingWithReflection(**process, "strata.runtime.v1.Runtime",
                              {"CreateContainer", "StartContainer", "Attach", "Exec", "Wait",
                               "Stop", "Kill", "Remove", "List", "Inspect", "Diff", "Commit",
                               "Export", "CopyFrom"});
}

TEST(ServiceBinariesTest, GatewayServes) {
  // It dials the services lazily: it answers (and describes itself) before they are up, and
  // its health says NOT_SERVING while the services it needs cannot be reached.
  auto process = ServiceProcess::Start(
      RunfilePath("cli/service/strata-gateway"),
      {"--layerstore=127.0.0.1:1", "--imagegraph=127.0.0.1:1", "--runtime=127.0.0.1:1"});
  ASSERT_TRUE(process.ok()) << process.status();
  ExpectServingWithReflection(
      **process, "strata.gateway.v1.Gateway",
      {"ImportImage", "Commit", "ListImages", "InspectImage", "TagImage", "RemoveImage", "History",
       "CreateContainer", "StartContainer", "Run", "Attach", "Exec", "Logs", "StopContainer",
       "KillContainer", "PauseContainer", "UnpauseContainer", "WaitContainer", "RemoveContainer",
       "ListContainers", "InspectContainer", "Diff", "Export", "CopyFrom", "CheckSystem", "Pull",
       "Push", "Login", "DiskUsage", "PruneImages", "PruneContainers", "PruneSystem"},
      "NOT_SERVING");
}

}  // namespace
}  // namespace strata
