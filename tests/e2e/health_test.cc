// Health that tells the truth, through the whole stack: with PostgreSQL stopped, imagegraph
// and the gateway (which needs all three services) report NOT_SERVING and `strata status`
// exits 1; once PostgreSQL is back, all four report SERVING again.

#include "lib/rpc/health.h"

#include <iostream>
#include <optional>
#include <string>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "lib/rpc/client.h"
#include "tests/e2e/stack.h"

namespace strata::e2e {
namespace {

std::optional<absl::Duration> WaitForHealth(const std::string& address, const std::string& service,
                                            const std::string& want) {
  auto channel = rpc::Dial({.address = address});
  if (!channel.ok()) return std::nullopt;
  const absl::Time start = absl::Now();
  while (absl::Now() - start < absl::Seconds(15)) {
    absl::StatusOr<std::string> health = rpc::CheckHealth(*channel, service);
    if (health.ok() && *health == want) return absl::Now() - start;
    absl::SleepFor(absl::Milliseconds(100));
  }
  return std::nullopt;
}

TEST(HealthTest, ImagegraphAndTheGatewayFollowTheDatabase) {
  auto stack_or = Stack::Start();
  ASSERT_TRUE(stack_or.ok()) << stack_or.status();
  Stack& stack = **stack_or;
  CommandResult status = stack.Strata({"status"});
  EXPECT_EQ(status.exit_code, 0) << status.output << status.error_output;

  ASSERT_TRUE(stack.postgres().Stop().ok());
  auto imagegraph =
      WaitForHealth(stack.imagegraph_address(), "strata.imagegraph.v1.ImageGraph", "NOT_SERVING");
  ASSERT_TRUE(imagegraph.has_value()) << "imagegraph still SERVING without its database";
  auto gateway = WaitForHealth(stack.gateway_address(), "strata.gateway.v1.Gateway", "NOT_SERVING");
  ASSERT_TRUE(gateway.has_value()) << "the gateway still SERVING without imagegraph";
  std::cout << "NOT_SERVING after PostgreSQL stopped: imagegraph "
            << absl::FormatDuration(*imagegraph) << ", then the gateway "
            << absl::FormatDuration(*gateway) << "\n";
  status = stack.Strata({"status"});
  EXPECT_EQ(status.exit_code, 1) << status.output;
  EXPECT_TRUE(absl::StrContains(status.output, "NOT_SERVING")) << status.output;

  ASSERT_TRUE(stack.postgres().Restart().ok());
  EXPECT_TRUE(WaitForHealth(stack.imagegraph_address(), "", "SERVING").has_value());
  EXPECT_TRUE(WaitForHealth(stack.gateway_address(), "", "SERVING").has_value());
  status = stack.Strata({"status"});
  EXPECT_EQ(status.exit_code, 0) << status.output << status.error_output;
}

}  // namespace
}  // namespace strata::e2e
