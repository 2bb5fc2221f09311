// The multi-host topology (tests/multihost/topology.h) with its two layerstore replicas on one
// bucket of a real object store (OpenStack Swift with s3api, lib/testing/swift_server.h)
// instead of one shared directory: what one node commits the others run, and a replica
// killed in the middle of a commit or of a pull is survived, the result complete and
// verified (the times each took are printed).

#include <iostream>
#include <map>
#include <string>
#include <thread>
#include <vector>

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
#include "lib/testing/swift_server.h"
#include "tests/multihost/topology.h"

namespace strata::multihost {
namespace {

using ::strata::testing::SwiftServer;

constexpr int kA = 0, kB = 1, kC = 2;

std::string Trim(const std::string& text) { return std::string(absl::StripAsciiWhitespace(text)); }

// Bytes each process has sent over its established TCP connections (their "bytes_sent" in
// `ss -tinp`), by pid. A replica's uploads to the object store and its replies to nodes both
// count: it tells which replica carries a transfer without looking inside the store.
std::map<pid_t, int64_t> BytesSentByProcess() {
  std::map<pid_t, int64_t> sent;
  auto listed = RunCommand({"ss", "-tinpH", "state", "established"}, {.separate_stderr = true});
  if (!listed.ok()) return sent;
  pid_t owner = -1;
  for (absl::string_view line : absl::StrSplit(listed->output, '\n')) {
    const size_t pid_at = line.find("pid=");
    if (pid_at != absl::string_view::npos) {
      const absl::string_view rest = line.substr(pid_at + 4);
      if (!absl::SimpleAtoi(rest.substr(0, rest.find_first_not_of("0123456789")), &owner)) {
        owner = -1;
      }
      continue;
    }
    const size_t bytes_at = line.find("bytes_sent:");
    if (bytes_at == absl::string_view::npos || owner < 0) continue;
    const absl::string_view rest = line.substr(bytes_at + 11);
    int64_t bytes = 0;
    if (absl::SimpleAtoi(rest.substr(0, rest.find(' ')), &bytes)) sent[owner] += bytes;
  }
  return sent;
}

class MultihostS3Test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const absl::Time started = absl::Now();
    SwiftServer& swift = SwiftServer::Shared();
    TopologyOptions options;
    options.layerstore_backend = [&swift](const std::string& dir) {
      const std::string credentials = dir + "/s3-credentials";
      EXPECT_TRUE(WriteFileAtomically(
                      credentials,
                      absl::StrCat("[default]\naws_access_key_id = ", SwiftServer::kAccessKey,
                                   "\naws_secret_access_key = ", SwiftServer::kSecretKey, "\n"),
                      0600)
                      .ok());
      return std::vector<std::string>{
          "--backend=s3",
          "--s3-endpoint=" + swift.endpoint(),
          absl::StrCat("--s3-bucket=", SwiftServer::kBucket),
          "--s3-prefix=multihost/",
          "--s3-credentials-file=" + credentials,
          // Small parts, so a 64 MB layer is many requests and a kill lands between them.
          "--s3-part-size=4194304",
          "--s3-lease-ttl=2s",
      };
    };
    auto topology = Topology::Start(std::move(options));
    ASSERT_TRUE(topology.ok()) << topology.status();
    topology_ = topology->release();
    auto tarball = topology_->BusyboxTarball();
    ASSERT_TRUE(tarball.ok()) << tarball.status();
    CommandResult imported = topology_->Strata(kA, {"import", *tarball, "base"});
    ASSERT_EQ(imported.exit_code, 0) << imported.error_output;
    std::cout << "object store, topology up and base imported in "
              << absl::FormatDuration(absl::Now() - started) << std::endl;
  }
  static void TearDownTestSuite() {
    delete topology_;
    topology_ = nullptr;
  }

  static std::string Ok(int node, const std::vector<std::string>& args) {
    CommandResult result = topology_->Strata(node, args);
    EXPECT_EQ(result.exit_code, 0) << "strata " << absl::StrJoin(args, " ") << " on node " << node
                                   << ": " << result.output << result.error_output;
    return result.output;
  }

  // Polls both layerstore replicas until one has written `bytes` more than when this began
  // (it carries the transfer under way); returns its index, or -1 after `timeout`.
  static int ReplicaCarrying(int64_t bytes, absl::Duration timeout) {
    const pid_t pids[2] = {topology_->layerstore_pid(0), topology_->layerstore_pid(1)};
    std::map<pid_t, int64_t> before = BytesSentByProcess();
    const absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      std::map<pid_t, int64_t> now = BytesSentByProcess();
      for (int i = 0; i < 2; ++i) {
        if (now[pids[i]] - before[pids[i]] >= bytes) return i;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return -1;
  }

  static inline Topology* topology_ = nullptr;
};

TEST_F(MultihostS3Test, WhatOneNodeCommitsTheOthersRun) {
  Ok(kA, {"run", "--name", "author", "base", "sh", "-c",
          "echo made on a > /hello && dd if=/dev/urandom of=/blob bs=1M count=4 2>/dev/null && "
          "sha256sum /blob > /blob.sum"});
  const std::string id = Trim(Ok(kA, {"commit", "author", "shared:1"}));
  ASSERT_TRUE(absl::StartsWith(id, "sha256:")) << id;
  Ok(kA, {"rm", "author"});
  for (int node : {kB, kC}) {
    EXPECT_EQ(
        Ok(node, {"run", "--rm", "shared:1", "sh", "-c", "cat /hello && sha256sum -c /blob.sum"}),
        "made on a\n/blob: OK\n")
        << "node " << node;
  }
  Ok(kA, {"rmi", "shared:1"});
}

TEST_F(MultihostS3Test, ALayerstoreReplicaKilledMidCommitAndMidPull) {
  Ok(kA, {"run", "--name", "big", "base", "sh", "-c",
          "dd if=/dev/urandom of=/big bs=1M count=64 2>/dev/null && sha256sum /big > /big.sum"});

  // Commit: kill the replica that has sent 8 MB of the upload on to the object store.
  CommandResult commit;
  std::thread committer([&] {
    commit = topology_->Strata(kA, {"commit", "--compression", "none", "big", "big:1"});
  });
  const int victim = ReplicaCarrying(8 << 20, absl::Seconds(60));
  const absl::Time killed = absl::Now();
  if (victim >= 0) topology_->KillLayerstore(victim);
  committer.join();
  ASSERT_GE(victim, 0) << "no replica was seen carrying the upload";
  ASSERT_EQ(commit.exit_code, 0) << commit.error_output;
  std::cout << "commit finished " << absl::FormatDuration(absl::Now() - killed)
            << " after layerstore replica " << victim << " was killed mid-upload" << std::endl;
  EXPECT_TRUE(absl::StrContains(topology_->NodeLog(kA), "streaming it again"))
      << "the commit did not meet the kill";
  ASSERT_TRUE(topology_->RestartLayerstore(victim).ok());
  Ok(kA, {"rm", "big"});

  // Pull: node B fetches the layer; kill the replica that has sent it 8 MB of the 64.
  CommandResult run;
  std::thread runner([&] {
    run = topology_->Strata(kB, {"run", "--rm", "big:1", "sha256sum", "-c", "/big.sum"});
  });
  const int reader = ReplicaCarrying(8 << 20, absl::Seconds(60));
  const absl::Time reader_killed = absl::Now();
  if (reader >= 0) topology_->KillLayerstore(reader);
  runner.join();
  ASSERT_GE(reader, 0) << "no replica was seen serving the layer";
  EXPECT_EQ(run.exit_code, 0) << run.error_output;
  EXPECT_EQ(run.output, "/big: OK\n");
  std::cout << "run finished " << absl::FormatDuration(absl::Now() - reader_killed)
            << " after layerstore replica " << reader << " was killed mid-read" << std::endl;
  EXPECT_TRUE(absl::StrContains(topology_->NodeLog(kB), "resuming at byte"))
      << "the read did not meet the kill";
  ASSERT_TRUE(topology_->RestartLayerstore(reader).ok());
  EXPECT_EQ(Ok(kC, {"run", "--rm", "big:1", "sha256sum", "-c", "/big.sum"}), "/big: OK\n");
  Ok(kA, {"rmi", "big:1"});
}

}  // namespace
}  // namespace strata::multihost
