// examples/python and examples/node against the whole stack: each imports a tarball, runs a
// container that changes a file, diffs, commits with author, message and CMD, reads the
// history and runs the new image, through strata.gateway.v1 alone.

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "lib/base/fs.h"
#include "lib/base/subprocess.h"
#include "lib/testing/subprocess.h"
#include "lib/testing/temp_dir.h"
#include "tests/e2e/stack.h"

namespace strata::e2e {
namespace {

using strata::testing::RunfilePath;

// Where deploy/install-deps.sh --test puts the example's npm packages.
constexpr char kNpmCache[] = "/var/cache/strata/npm";

class ExamplesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto stack = Stack::Start();
    ASSERT_TRUE(stack.ok()) << stack.status();
    stack_ = std::move(*stack);
    auto tarball = stack_->BusyboxTarball("none");
    ASSERT_TRUE(tarball.ok()) << tarball.status();
    tarball_ = *tarball;
  }

  void ExpectWorkflow(const CommandResult& result, const std::string& greeting) {
    EXPECT_EQ(result.exit_code, 0) << result.output << result.error_output;
    EXPECT_TRUE(absl::StrContains(result.output, "committed sha256:")) << result.output;
    EXPECT_TRUE(absl::StrContains(result.output, "A /greeting")) << result.output;
    EXPECT_TRUE(absl::StrContains(result.output, "new image prints: " + greeting))
        << result.output;
    EXPECT_TRUE(absl::StrContains(result.output, "\nOK\n")) << result.output;
  }

  std::unique_ptr<Stack> stack_;
  std::string tarball_;
};

TEST_F(ExamplesTest, Python) {
  auto result = RunCommand({"/usr/bin/python3", RunfilePath("examples/python/workflow.py"),
                            "--gateway", stack_->gateway_address(), "--rootfs", tarball_},
                           {.separate_stderr = true});
  ASSERT_TRUE(result.ok()) << result.status();
  ExpectWorkflow(*result, "hello from python");
}

TEST_F(ExamplesTest, Node) {
  // The example finds protos/ two levels up from itself: give it that layout, with its
  // packages installed from npm's cache (filled by deploy/install-deps.sh --test: no network).
  strata::testing::TempDir tree("node-example");
  const std::string dir = tree.Join("examples/node");
  ASSERT_TRUE(MakeDirs(dir).ok());
  for (const char* file : {"package.json", "package-lock.json", "workflow.js"}) {
    auto contents = ReadFile(RunfilePath(absl::StrCat("examples/node/", file)));
    ASSERT_TRUE(contents.ok()) << contents.status();
    ASSERT_TRUE(WriteFileAtomically(absl::StrCat(dir, "/", file), *contents).ok());
  }
  ASSERT_TRUE(RunCommandOk({"ln", "-s", RunfilePath("protos"), tree.Join("protos")}).ok());
  auto installed = RunCommand({"npm", "ci", "--offline", "--no-audit", "--no-fund", "--cache",
                               kNpmCache, "--prefix", dir},
                              {.separate_stderr = true});
  ASSERT_TRUE(installed.ok()) << installed.status();
  ASSERT_EQ(installed->exit_code, 0)
      << "npm ci --offline failed (run deploy/install-deps.sh --test to fill npm's cache): "
      << installed->error_output;
  auto result = RunCommand({"node", dir + "/workflow.js", "--gateway", stack_->gateway_address(),
                            "--rootfs", tarball_},
                           {.separate_stderr = true});
  ASSERT_TRUE(result.ok()) << result.status();
  ExpectWorkflow(*result, "hello from node");
}

}  // namespace
}  // namespace strata::e2e
