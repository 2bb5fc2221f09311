// Container networking: `--network host` (the default) shares the node's network, so a
// container reaches the services on 127.0.0.1; `--network none` gives it a network namespace
// of its own with loopback only, from which no Strata service can be reached.

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gtest/gtest.h"
#include "tests/e2e/stack.h"

namespace strata::e2e {
namespace {

std::string Ok(Stack& stack, const std::vector<std::string>& args) {
  CommandResult result = stack.Strata(args);
  EXPECT_EQ(result.exit_code, 0) << "strata " << absl::StrJoin(args, " ")
                                 << "\nstdout: " << result.output
                                 << "\nstderr: " << result.error_output;
  return result.output;
}

std::string Port(const std::string& address) { return address.substr(address.rfind(':') + 1); }

// The interfaces /proc/net/dev lists, in order.
std::vector<std::string> Interfaces(const std::string& proc_net_dev) {
  std::vector<std::string> names;
  for (absl::string_view line : absl::StrSplit(proc_net_dev, '\n', absl::SkipEmpty())) {
    const size_t colon = line.find(':');
    if (colon == absl::string_view::npos) continue;  // the two header lines
    names.emplace_back(absl::StripAsciiWhitespace(line.substr(0, colon)));
  }
  return names;
}

class NetworkTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto stack = Stack::Start();
    ASSERT_TRUE(stack.ok()) << stack.status();
    stack_ = stack->release();
    auto tarball = stack_->BusyboxTarball("none");
    ASSERT_TRUE(tarball.ok()) << tarball.status();
    Ok(*stack_, {"import", *tarball, "base"});
  }
  static void TearDownTestSuite() { delete stack_; }

  // Runs nc in a container on `network` against every service of the stack; returns the
  // exit code of each attempt and what it printed.
  static std::vector<CommandResult> ConnectToServices(const std::string& network) {
    std::vector<CommandResult> results;
    for (const std::string& address :
         {stack_->layerstore_address(), stack_->imagegraph_address(), stack_->gateway_address()}) {
      // IP PORT before -e: busybox's nc takes what follows -e as the program's arguments.
      results.push_back(stack_->Strata({"run", "--rm", "--network", network, "base", "nc", "-w",
                                        "3", "127.0.0.1", Port(address), "-e", "/bin/true"}));
    }
    return results;
  }

  static Stack* stack_;
};

Stack* NetworkTest::stack_ = nullptr;

TEST_F(NetworkTest, NoneHasOnlyLoopbackAndReachesNoService) {
  const std::string dev =
      Ok(*stack_, {"run", "--rm", "--network", "none", "base", "cat", "/proc/net/dev"});
  EXPECT_EQ(Interfaces(dev), std::vector<std::string>{"lo"}) << dev;
  // Loopback is up, with its address.
  const std::string addresses =
      Ok(*stack_, {"run", "--rm", "--network", "none", "base", "ip", "addr"});
  EXPECT_TRUE(absl::StrContains(addresses, "inet 127.0.0.1/8")) << addresses;
  EXPECT_TRUE(absl::StrContains(addresses, "UP")) << addresses;
  EXPECT_EQ(Ok(*stack_, {"run", "--rm", "--network", "none", "base", "ping", "-c", "1", "-W", "2",
                         "127.0.0.1"})
                .empty(),
            false);

  for (const CommandResult& result : ConnectToServices("none")) {
    EXPECT_NE(result.exit_code, 0) << result.output << result.error_output;
    EXPECT_TRUE(absl::StrContains(result.error_output, "Connection refused"))
        << result.error_output;
  }
}

TEST_F(NetworkTest, HostIsTheDefaultAndReachesTheServices) {
  const std::string dev = Ok(*stack_, {"run", "--rm", "base", "cat", "/proc/net/dev"});
  EXPECT_GT(Interfaces(dev).size(), 1u) << dev;
  for (const CommandResult& result : ConnectToServices("host")) {
    EXPECT_EQ(result.exit_code, 0) << result.output << result.error_output;
  }
  // The choice is recorded, as docker's HostConfig.NetworkMode.
  const std::string id = std::string(
      absl::StripAsciiWhitespace(Ok(*stack_, {"create", "--network", "none", "base", "true"})));
  EXPECT_TRUE(absl::StrContains(Ok(*stack_, {"inspect", "--type", "container", id}),
                                "\"NetworkMode\": \"none\""));
  Ok(*stack_, {"rm", id});
}

TEST_F(NetworkTest, AnUnknownNetworkIsRefused) {
  CommandResult result = stack_->Strata({"run", "--rm", "--network", "bridge", "base", "true"});
  EXPECT_NE(result.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(result.error_output, "only \"host\" and \"none\""))
      << result.error_output;
}

TEST_F(NetworkTest, HelpStatesTheDefault) {
  CommandResult help = stack_->Strata({"run", "--help"});
  EXPECT_TRUE(absl::StrContains(help.output, "--network")) << help.output;
  EXPECT_TRUE(absl::StrContains(help.output, "default")) << help.output;
}

}  // namespace
}  // namespace strata::e2e
