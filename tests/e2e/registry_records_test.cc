// What Strata remembers of registries, end to end against real docker-registry instances:
// repository digests (push and pull record them; `images --digests`, inspect's RepoDigests,
// pull by digest), cross-repository mounts from a repository known to hold a blob, the gzip
// conversion of a zstd layer kept for the next push, a pull killed half-way that the next pull
// resumes with HTTP Range (through a throttling proxy of the test's own), and credentials
// from a docker credential helper.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "lib/base/fs.h"
#include "lib/base/subprocess.h"
#include "lib/distribution/testing/test_registry.h"
#include "lib/testing/service_process.h"
#include "lib/testing/subprocess.h"
#include "nlohmann/json.hpp"
#include "pqxx/pqxx"
#include "tests/e2e/stack.h"

namespace strata::e2e {
namespace {

using distribution::testing::TestRegistry;

std::string Ok(Stack& stack, const std::vector<std::string>& args) {
  CommandResult result = stack.Strata(args);
  EXPECT_EQ(result.exit_code, 0) << "strata " << absl::StrJoin(args, " ")
                                 << "\nstdout: " << result.output
                                 << "\nstderr: " << result.error_output;
  return result.output;
}

nlohmann::json Inspect(Stack& stack, const std::string& ref) {
  nlohmann::json inspected = nlohmann::json::parse(Ok(stack, {"inspect", ref}), nullptr, false);
  if (inspected.is_array() && !inspected.empty()) return inspected[0];
  return nlohmann::json::object();
}

// "1: digest: sha256:... size: N" -> "sha256:...".
std::string PushedDigest(const std::string& output) {
  const size_t at = output.find(": digest: ");
  if (at == std::string::npos) return "";
  return output.substr(at + 10, 71);
}

// Runs SQL against the stack's imagegraph database.
std::string Sql(Stack& stack, const std::string& sql) {
  pqxx::connection connection(stack.postgres().connection_string());
  pqxx::work tx(connection);
  pqxx::result result = tx.exec(sql);
  tx.commit();
  return result.empty() || result[0][0].is_null() ? "" : result[0][0].as<std::string>();
}

class RegistryRecordsTest : public BaseImageSuite {
 protected:
  static void SetUpTestSuite() {
    BaseImageSuite::SetUpTestSuite();
    auto registry = TestRegistry::Start();
    ASSERT_TRUE(registry.ok()) << registry.status();
    registry_ = registry->release();
  }
  static void TearDownTestSuite() {
    delete registry_;
    BaseImageSuite::TearDownTestSuite();
  }
  static inline TestRegistry* registry_ = nullptr;
};

TEST_F(RegistryRecordsTest, PushAndPullRecordRepoDigestsAsDocker) {
  const std::string remote = absl::StrCat(registry_->domain(), "/team/digests");
  Ok(*stack_, {"tag", "base", remote + ":1"});
  const std::string digest = PushedDigest(Ok(*stack_, {"push", remote + ":1"}));
  ASSERT_EQ(digest.size(), 71u);
  nlohmann::json image = Inspect(*stack_, remote + ":1");
  EXPECT_EQ(image["RepoDigests"], nlohmann::json::array({remote + "@" + digest})) << image;
  const std::string id = image.value("Id", "");

  // DIGEST between TAG and IMAGE ID; "<none>" for a repository without one.
  const std::string listed = Ok(*stack_, {"images", "--digests"});
  EXPECT_TRUE(absl::StartsWith(listed, "REPOSITORY")) << listed;
  EXPECT_EQ(
      std::vector<std::string>(
          absl::StrSplit(listed.substr(0, listed.find('\n')), ' ', absl::SkipEmpty())),
      std::vector<std::string>({"REPOSITORY", "TAG", "DIGEST", "IMAGE", "ID", "CREATED", "SIZE"}))
      << listed;
  bool remote_row = false;
  bool base_row = false;
  for (absl::string_view line : absl::StrSplit(listed, '\n')) {
    std::vector<std::string> cells = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (cells.size() < 4) continue;
    if (cells[0] == remote) remote_row = cells[1] == "1" && cells[2] == digest;
    if (cells[0] == "base") base_row = cells[2] == "<none>";
  }
  EXPECT_TRUE(remote_row && base_row) << listed;
  EXPECT_FALSE(absl::StrContains(Ok(*stack_, {"images"}), "DIGEST"));

  // rmi of the repository's last tag drops its digest too; a pull by digest records the
  // digest and no tag: "REPO <none>" rows, inspect by REPO@DIGEST.
  const std::string untagged = Ok(*stack_, {"rmi", remote + ":1"});
  EXPECT_TRUE(absl::StrContains(untagged, "Untagged: " + remote + "@" + digest)) << untagged;
  const std::string by_digest = remote + "@" + digest;
  const std::string pulled = Ok(*stack_, {"pull", by_digest});
  EXPECT_TRUE(absl::StrContains(pulled, "Digest: " + digest)) << pulled;
  image = Inspect(*stack_, by_digest);
  EXPECT_EQ(image.value("Id", ""), id);
  EXPECT_EQ(image["RepoDigests"], nlohmann::json::array({by_digest}));
  const std::string rows = Ok(*stack_, {"images", "--digests", remote});
  EXPECT_TRUE(absl::StrContains(rows, digest)) << rows;
  EXPECT_TRUE(absl::StrContains(rows, "<none>")) << rows;
  const std::string removed = Ok(*stack_, {"rmi", by_digest});
  EXPECT_TRUE(absl::StrContains(removed, "Untagged: " + by_digest)) << removed;
}

TEST_F(RegistryRecordsTest, PushMountsFromAnotherRepositoryAndReusesTheGzipConversion) {
  // base is zstd in layerstore; the registry gets gzip, converted once.
  const std::string first = absl::StrCat(registry_->domain(), "/mount/source:1");
  Ok(*stack_, {"tag", "base", first});
  Ok(*stack_, {"push", first});
  const std::string converted_at =
      Sql(*stack_, "SELECT updated::text FROM blob_variants WHERE repository = ''");
  ASSERT_FALSE(converted_at.empty()) << "the conversion was not recorded";

  // Another repository of the same registry: mounted, not uploaded, and not converted again.
  const std::string second = absl::StrCat(registry_->domain(), "/mount/target:1");
  Ok(*stack_, {"tag", "base", second});
  const std::string pushed = Ok(*stack_, {"push", second});
  EXPECT_TRUE(absl::StrContains(pushed, "Mounted from mount/source")) << pushed;
  EXPECT_EQ(registry_->CountRequests("POST", "/v2/mount/target/blobs/uploads/?mount="), 1)
      << registry_->Log();
  EXPECT_EQ(registry_->CountRequests("PATCH", "/v2/mount/target/blobs/uploads/"), 1)
      << "only the config\n"
      << registry_->Log();
  EXPECT_EQ(Sql(*stack_, "SELECT updated::text FROM blob_variants WHERE repository = ''"),
            converted_at);

  // A second registry: no repository to mount from, the kept gzip blob is uploaded as it is.
  auto other = TestRegistry::Start();
  ASSERT_TRUE(other.ok()) << other.status();
  const std::string elsewhere = absl::StrCat((*other)->domain(), "/copy/base:1");
  Ok(*stack_, {"tag", "base", elsewhere});
  Ok(*stack_, {"push", elsewhere});
  EXPECT_EQ(Sql(*stack_, "SELECT updated::text FROM blob_variants WHERE repository = ''"),
            converted_at);
  EXPECT_EQ(Sql(*stack_, "SELECT count(*) FROM blob_variants WHERE repository = ''"), "1");
  const std::string gzip = Sql(*stack_, "SELECT digest FROM blob_variants WHERE repository = ''");
  EXPECT_EQ((*other)->CountRequests("PUT", gzip.substr(7, 20)), 1) << (*other)->Log();
  for (const std::string& ref : {first, second, elsewhere}) Ok(*stack_, {"rmi", ref});
}

TEST_F(RegistryRecordsTest, AKilledPullIsResumedWithRange) {
  // An image whose top layer (40 MB of random bytes: it does not compress) strata never saw:
  // made in the registry by the test, on top of the base strata pushed there. (A layer strata
  // committed would still be in its layerstore, and the pull would not download it.)
  const std::string base = absl::StrCat(registry_->domain(), "/team/big:base");
  Ok(*stack_, {"tag", "base", base});
  Ok(*stack_, {"push", base});
  Ok(*stack_, {"rmi", base});
  auto made = RunCommand(
      {"/usr/bin/python3", strata::testing::RunfilePath("tests/e2e/testdata/add_layer.py"),
       registry_->domain(), "team/big", "base", "1", "40000000"},
      {.separate_stderr = true});
  ASSERT_TRUE(made.ok());
  ASSERT_EQ(made->exit_code, 0) << made->error_output;
  const std::string id(absl::StripAsciiWhitespace(made->output));

  const std::string log = absl::StrCat(stack_->dir(), "/proxy.log");
  auto proxy = strata::testing::ServiceProcess::StartCommand(
      {"/usr/bin/python3", strata::testing::RunfilePath("tests/e2e/testdata/throttle_proxy.py"),
       registry_->domain(), "4000000", log});
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  const std::string throttled = absl::StrCat((*proxy)->address(), "/team/big:1");

  // The first pull runs in the background and is killed once layerstore holds 5 MB of the
  // layer's upload (its ingest directory).
  std::vector<std::string> argv = {"/usr/bin/env"};
  for (const std::string& entry : stack_->Env()) argv.push_back(entry);
  argv.push_back(stack_->StrataBinary());
  argv.push_back("pull");
  argv.push_back(throttled);
  std::vector<char*> args = CStringArray(argv);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  const std::string first_log = stack_->dir() + "/first-pull.log";
  posix_spawn_file_actions_addopen(&actions, 1, first_log.c_str(), O_WRONLY | O_CREAT, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  bool partial = false;
  for (int i = 0; i < 300 && !partial; ++i) {
    auto found =
        RunCommand({"find", stack_->dir(), "-path", "*/ingest/*", "-type", "f", "-size", "+5M"},
                   {.separate_stderr = true});
    partial = found.ok() && !found->output.empty();
    if (!partial) absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_TRUE(partial) << "the first pull never got 5 MB into layerstore\n"
                       << *ReadFile(log) << ReadFile(first_log).value_or("");
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  ::waitpid(pid, nullptr, 0);
  absl::SleepFor(absl::Milliseconds(500));  // The layerstore sees the stream cut.

  const std::string resumed = Ok(*stack_, {"pull", throttled});
  // The layer's GETs: the first from 0, the second from where the killed pull got.
  int64_t offset = 0;
  for (absl::string_view line : absl::StrSplit(*ReadFile(log), '\n')) {
    std::vector<std::string> fields = absl::StrSplit(line, ' ');
    if (fields.size() != 3 || fields[0] != "GET" || !absl::StrContains(fields[1], "/blobs/")) {
      continue;
    }
    if (absl::StartsWith(fields[2], "bytes=")) {
      ASSERT_TRUE(absl::SimpleAtoi(absl::StripSuffix(absl::StripPrefix(fields[2], "bytes="), "-"),
                                   &offset));
    }
  }
  EXPECT_GT(offset, 1000000) << *ReadFile(log);
  EXPECT_LT(offset, 40000000);
  EXPECT_EQ(Inspect(*stack_, throttled).value("Id", ""), id);
  EXPECT_EQ(Ok(*stack_, {"run", "--rm", throttled, "sh", "-c", "wc -c < /big"}), "40000000\n");
  Ok(*stack_, {"rmi", throttled});
}

TEST_F(RegistryRecordsTest, CredentialsComeFromADockerCredentialHelper) {
  distribution::testing::TestRegistryOptions options;
  options.auth = distribution::testing::TestRegistryOptions::Auth::kToken;
  auto secured = TestRegistry::Start(options);
  ASSERT_TRUE(secured.ok()) << secured.status();
  const std::string dir = absl::StrCat(stack_->dir(), "/helper");
  ASSERT_TRUE(MakeDirs(dir + "/bin").ok());
  // The helper answers get with the registry's credentials and logs its arguments.
  ASSERT_TRUE(WriteFileAtomically(dir + "/bin/docker-credential-test",
                                  absl::StrCat("#!/bin/sh\necho \"$@ $(cat)\" >> ", dir,
                                               "/calls\n[ \"$1\" = get ] || exit 1\n"
                                               "echo '{\"Username\":\"strata\","
                                               "\"Secret\":\"s3cret-pass\"}'\n"))
                  .ok());
  ASSERT_EQ(::chmod((dir + "/bin/docker-credential-test").c_str(), 0755), 0);
  ASSERT_TRUE(WriteFileAtomically(dir + "/config.json", R"({"credsStore": "test"})").ok());
  std::vector<std::string> argv = {"env", "DOCKER_CONFIG=" + dir,
                                   absl::StrCat("PATH=", dir, "/bin:/usr/bin:/bin")};
  for (const std::string& entry : stack_->Env()) argv.push_back(entry);
  argv.push_back(stack_->StrataBinary());
  const std::string remote = absl::StrCat((*secured)->domain(), "/private/helper:1");
  Ok(*stack_, {"tag", "base", remote});
  argv.push_back("push");
  argv.push_back(remote);
  auto pushed = RunCommand(argv, {.separate_stderr = true});
  ASSERT_TRUE(pushed.ok());
  EXPECT_EQ(pushed->exit_code, 0) << pushed->error_output;
  EXPECT_EQ(*ReadFile(dir + "/calls"), absl::StrCat("get ", (*secured)->domain(), "\n"));
  EXPECT_TRUE(absl::StrContains((*secured)->TokenLog(), "private/helper:pull,push user=strata"));
  Ok(*stack_, {"rmi", remote});
}

// What strata pushes, the tools people use read: skopeo inspects and copies it to an OCI
// layout, umoci unpacks the committed file from it; zstd layers go through the registry and
// back; an index of two platforms gives each its own image with --platform.
TEST_F(RegistryRecordsTest, SkopeoUmociZstdAndTwoPlatforms) {
  Ok(*stack_, {"run", "--name", "interop", "base", "sh", "-c", "echo made-by-strata > /made"});
  Ok(*stack_, {"commit", "interop", "interop:1"});
  Ok(*stack_, {"rm", "interop"});
  const std::string id = Inspect(*stack_, "interop:1").value("Id", "");
  const std::string remote = absl::StrCat(registry_->domain(), "/tools/interop:1");
  Ok(*stack_, {"tag", "interop:1", remote});
  const std::string digest = PushedDigest(Ok(*stack_, {"push", remote}));

  auto inspected = RunCommand({"skopeo", "inspect", "--tls-verify=false", "docker://" + remote},
                              {.separate_stderr = true});
  ASSERT_TRUE(inspected.ok());
  ASSERT_EQ(inspected->exit_code, 0) << inspected->error_output;
  nlohmann::json info = nlohmann::json::parse(inspected->output, nullptr, false);
  EXPECT_EQ(info.value("Digest", ""), digest) << inspected->output;
  EXPECT_EQ(info["Layers"].size(), 2u) << inspected->output;
  const std::string layout = absl::StrCat(stack_->dir(), "/oci");
  auto copied = RunCommand({"skopeo", "copy", "--src-tls-verify=false", "docker://" + remote,
                            absl::StrCat("oci:", layout, ":x")},
                           {.separate_stderr = true});
  ASSERT_TRUE(copied.ok());
  ASSERT_EQ(copied->exit_code, 0) << copied->error_output;
  const std::string bundle = absl::StrCat(stack_->dir(), "/bundle");
  auto unpacked =
      RunCommand({"umoci", "unpack", "--image", layout + ":x", bundle}, {.separate_stderr = true});
  ASSERT_TRUE(unpacked.ok());
  ASSERT_EQ(unpacked->exit_code, 0) << unpacked->error_output;
  EXPECT_EQ(*ReadFile(bundle + "/rootfs/made"), "made-by-strata\n");

  // zstd layers through the registry: the manifest says zstd, the pull gives the same image.
  const std::string zstd = absl::StrCat(registry_->domain(), "/tools/zstd:1");
  Ok(*stack_, {"tag", "interop:1", zstd});
  Ok(*stack_, {"push", "--compression-format", "zstd", zstd});
  auto raw = RunCommand({"skopeo", "inspect", "--raw", "--tls-verify=false", "docker://" + zstd});
  ASSERT_TRUE(raw.ok() && raw->exit_code == 0);
  EXPECT_TRUE(absl::StrContains(raw->output, "tar+zstd")) << raw->output;
  Ok(*stack_, {"rmi", zstd, remote, "interop:1"});
  Ok(*stack_, {"pull", zstd});
  EXPECT_EQ(Inspect(*stack_, zstd).value("Id", ""), id);
  EXPECT_EQ(Ok(*stack_, {"run", "--rm", zstd, "cat", "/made"}), "made-by-strata\n");

  // Two platforms: the host's by default, the other with --platform, none for a third.
  auto made = RunCommand(
      {"/usr/bin/python3", strata::testing::RunfilePath("tests/e2e/testdata/make_index.py"),
       registry_->domain(), "tools/zstd", "1"},
      {.separate_stderr = true});
  ASSERT_TRUE(made.ok());
  ASSERT_EQ(made->exit_code, 0) << made->error_output;
  std::vector<std::string> lines = absl::StrSplit(made->output, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u);
  const std::string multi = absl::StrCat(registry_->domain(), "/tools/zstd:multi");
  const std::string host = Ok(*stack_, {"pull", multi});
  EXPECT_TRUE(absl::StrContains(host, "Digest: " + lines[1])) << host;
  EXPECT_EQ(Inspect(*stack_, multi).value("Id", ""), id);
  Ok(*stack_, {"pull", "--platform", "linux/arm64", multi});
  nlohmann::json arm = Inspect(*stack_, multi);
  EXPECT_EQ(arm.value("Id", ""), lines[0]);
  EXPECT_EQ(arm.value("Architecture", ""), "arm64");
  CommandResult none = stack_->Strata({"pull", "--platform", "linux/s390x", multi});
  EXPECT_NE(none.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(none.error_output, "linux/arm64")) << none.error_output;
  Ok(*stack_, {"rmi", multi, zstd});
  (void)stack_->Strata({"rmi", lines[0]});
}

}  // namespace
}  // namespace strata::e2e
