// Registries end to end: strata commit -> push to a real docker-registry -> rmi -> pull ->
// run gives the same output and the same image id; nothing shared is sent or fetched twice
// (the registry's access log); podman pulls and runs what strata pushed, and strata pulls and
// runs what podman pushed; login/logout write docker's config.json.

#include <sys/stat.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "gtest/gtest.h"
#include "lib/base/fs.h"
#include "lib/base/random.h"
#include "lib/base/subprocess.h"
#include "lib/distribution/testing/test_registry.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/stack.h"

namespace strata::e2e {
namespace {

using distribution::testing::TestRegistry;
using distribution::testing::TestRegistryOptions;

std::string Ok(Stack& stack, const std::vector<std::string>& args, const std::string& input = "") {
  CommandResult result = stack.Strata(args, input);
  EXPECT_EQ(result.exit_code, 0) << "strata " << absl::StrJoin(args, " ")
                                 << "\nstdout: " << result.output
                                 << "\nstderr: " << result.error_output;
  return result.output;
}

std::string ImageId(Stack& stack, const std::string& ref) {
  nlohmann::json inspected = nlohmann::json::parse(Ok(stack, {"inspect", ref}), nullptr, false);
  if (inspected.is_array() && !inspected.empty()) inspected = inspected[0];
  return inspected.is_object() ? inspected.value("Id", "") : "";
}

bool HavePodman() {
  auto version = RunCommand({"podman", "--version"});
  return version.ok() && version->exit_code == 0;
}

class RegistryTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto stack = Stack::Start();
    ASSERT_TRUE(stack.ok()) << stack.status();
    stack_ = stack->release();
    auto tarball = stack_->BusyboxTarball("gzip");
    ASSERT_TRUE(tarball.ok()) << tarball.status();
    tarball_ = new std::string(*tarball);
    Ok(*stack_, {"import", *tarball, "base"});
    auto registry = TestRegistry::Start();
    ASSERT_TRUE(registry.ok()) << registry.status();
    registry_ = registry->release();
  }
  static void TearDownTestSuite() {
    delete registry_;
    delete stack_;
    delete tarball_;
  }

  static Stack* stack_;
  static TestRegistry* registry_;
  static std::string* tarball_;
};

Stack* RegistryTest::stack_ = nullptr;
TestRegistry* RegistryTest::registry_ = nullptr;
std::string* RegistryTest::tarball_ = nullptr;

TEST_F(RegistryTest, CommitPushRmiPullRunKeepsOutputAndId) {
  Ok(*stack_, {"run", "--name", "maker", "base", "sh", "-c", "echo pushed > /added"});
  Ok(*stack_, {"commit", "-c", "CMD [\"cat\", \"/added\"]", "maker", "app:1"});
  const std::string id = ImageId(*stack_, "app:1");
  const std::string remote = absl::StrCat(registry_->domain(), "/team/app:1");
  Ok(*stack_, {"tag", "app:1", remote});

  const std::string pushed = Ok(*stack_, {"push", remote});
  EXPECT_TRUE(absl::StrContains(pushed, "1: digest: sha256:")) << pushed;
  EXPECT_TRUE(absl::StrContains(pushed, "size: ")) << pushed;
  const int patches = registry_->CountRequests("PATCH", "/v2/team/app/blobs/uploads/");
  EXPECT_EQ(patches, 3) << "two layers and the config\n" << registry_->Log();
  // A second push sends nothing again.
  const std::string again = Ok(*stack_, {"push", remote});
  EXPECT_TRUE(absl::StrContains(again, "Layer already exists")) << again;
  EXPECT_EQ(registry_->CountRequests("PATCH", "/v2/team/app/blobs/uploads/"), patches);

  Ok(*stack_, {"rm", "maker"});
  Ok(*stack_, {"rmi", remote, "app:1"});
  EXPECT_NE(stack_->Strata({"inspect", remote}).exit_code, 0);

  const std::string pulled = Ok(*stack_, {"pull", remote});
  EXPECT_TRUE(absl::StrContains(pulled, "Digest: sha256:")) << pulled;
  EXPECT_TRUE(absl::StrContains(pulled, absl::StrCat(remote, "\n"))) << pulled;
  // The base layer was still there; only the committed one came over the wire.
  EXPECT_TRUE(absl::StrContains(pulled, "Already exists")) << pulled;
  EXPECT_EQ(ImageId(*stack_, remote), id);
  EXPECT_EQ(Ok(*stack_, {"run", "--rm", remote}), "pushed\n");

  // Pulling again moves no layer bytes.
  const int blob_gets = registry_->CountRequests("GET", "/v2/team/app/blobs/");
  Ok(*stack_, {"pull", "-q", remote});
  EXPECT_EQ(registry_->CountRequests("GET", "/v2/team/app/blobs/"), blob_gets + 1)
      << "only the config";

  // Clear errors.
  CommandResult missing = stack_->Strata({"pull", absl::StrCat(registry_->domain(), "/no/such:1")});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(missing.error_output, "manifest unknown")) << missing.error_output;
}

TEST_F(RegistryTest, PodmanPullsWhatStrataPushedAndTheOtherWayRound) {
  if (!HavePodman()) GTEST_SKIP() << "podman is not installed";
  const std::string suffix = RandomHex(8);
  Ok(*stack_, {"run", "--name", "interop", "base", "sh", "-c", "echo from-strata > /who"});
  Ok(*stack_, {"commit", "interop", "interop:1"});
  Ok(*stack_, {"rm", "interop"});
  for (const std::string format : {"oci", "v2s2"}) {
    const std::string remote = absl::StrCat(registry_->domain(), "/interop/", format, ":", suffix);
    Ok(*stack_, {"tag", "interop:1", remote});
    Ok(*stack_, {"push", "--format", format, remote});
    auto pulled = RunCommand({"podman", "pull", "--tls-verify=false", remote});
    ASSERT_TRUE(pulled.ok() && pulled->exit_code == 0) << pulled->output;
    auto run =
        RunCommand({"podman", "--runtime", "runc", "run", "--rm", "--network", "host", "--ulimit",
                    "nofile=1024:1024", "--ulimit", "nproc=1024:1024", remote, "cat", "/who"},
                   {.separate_stderr = true});
    ASSERT_TRUE(run.ok());
    EXPECT_EQ(run->output, "from-strata\n") << format << ": " << run->error_output;
    (void)RunCommand({"podman", "rmi", "-f", remote});
  }

  // podman pushes (its own gzip layers, docker schema 2 or OCI as it likes), strata pulls.
  const std::string theirs = absl::StrCat("podman-made-", suffix);
  auto imported = RunCommand({"podman", "import", *tarball_, theirs});
  ASSERT_TRUE(imported.ok() && imported->exit_code == 0) << imported->output;
  const std::string remote = absl::StrCat(registry_->domain(), "/podman/made:", suffix);
  auto pushed = RunCommand({"podman", "push", "--tls-verify=false", theirs, remote});
  (void)RunCommand({"podman", "rmi", "-f", theirs});
  ASSERT_TRUE(pushed.ok() && pushed->exit_code == 0) << pushed->output;
  Ok(*stack_, {"pull", remote});
  EXPECT_EQ(Ok(*stack_, {"run", "--rm", remote, "cat", "/etc/keep"}), "keep\n");
}

TEST_F(RegistryTest, LoginWritesDockerConfigAndLogoutRemovesIt) {
  TestRegistryOptions options;
  options.auth = TestRegistryOptions::Auth::kToken;
  auto secured = TestRegistry::Start(options);
  ASSERT_TRUE(secured.ok()) << secured.status();
  const std::string domain = (*secured)->domain();
  const std::string config = absl::StrCat(stack_->dir(), "/docker-config");
  // The CLI reads $DOCKER_CONFIG: Stack's environment plus ours, through `env`.
  auto strata = [&](std::vector<std::string> args, const std::string& input = "") {
    std::vector<std::string> argv = {"env", absl::StrCat("DOCKER_CONFIG=", config)};
    for (const std::string& entry : stack_->Env()) argv.push_back(entry);
    argv.push_back(stack_->StrataBinary());
    argv.insert(argv.end(), args.begin(), args.end());
    return *RunCommand(argv, {.stdin_data = input, .separate_stderr = true});
  };
  CommandResult wrong = strata({"login", "-u", "strata", "--password-stdin", domain}, "nope\n");
  EXPECT_NE(wrong.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(wrong.error_output, "incorrect username or password"))
      << wrong.error_output;
  EXPECT_FALSE(absl::StrContains(wrong.error_output, "nope"));

  CommandResult login =
      strata({"login", "-u", "strata", "--password-stdin", domain}, "s3cret-pass\n");
  ASSERT_EQ(login.exit_code, 0) << login.error_output;
  EXPECT_EQ(login.output, "Login Succeeded\n");
  struct stat st;
  ASSERT_EQ(::stat((config + "/config.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  // Logged in, push works; the token issuer saw the push scope.
  const std::string remote = absl::StrCat(domain, "/private/base:1");
  Ok(*stack_, {"tag", "base", remote});
  CommandResult push = strata({"push", remote});
  EXPECT_EQ(push.exit_code, 0) << push.error_output;
  EXPECT_TRUE(absl::StrContains((*secured)->TokenLog(), "private/base:pull,push user=strata"));

  CommandResult logout = strata({"logout", domain});
  EXPECT_EQ(logout.output, absl::StrCat("Removing login credentials for ", domain, "\n"));
  CommandResult refused = strata({"push", remote});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(refused.error_output, "unauthorized")) << refused.error_output;
  Ok(*stack_, {"rmi", remote});
}

}  // namespace
}  // namespace strata::e2e
