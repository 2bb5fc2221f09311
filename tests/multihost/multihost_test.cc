// Several hosts sharing one layer store, on one machine (tests/multihost/topology.h): one
// PostgreSQL, two imagegraph and two layerstore replicas, three runtime nodes with private
// disks, all over mTLS. What one node commits, the others run; two nodes racing for one tag
// lose nothing; a replica killed in the middle of a commit or a pull, an imagegraph replica
// killed, PostgreSQL restarted and a runtime restarted are all survived without a user's
// command failing (the times each took are printed).

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <iostream>
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
#include "nlohmann/json.hpp"
#include "tests/multihost/topology.h"

namespace strata::multihost {
namespace {

constexpr int kA = 0, kB = 1, kC = 2;

std::string Trim(const std::string& text) { return std::string(absl::StripAsciiWhitespace(text)); }

// The file offset of descriptor `fd` of process `pid` (from /proc/PID/fdinfo), or -1.
int64_t FilePosition(pid_t pid, const std::string& fd) {
  absl::StatusOr<std::string> info = ReadFile(absl::StrCat("/proc/", pid, "/fdinfo/", fd));
  int64_t position = -1;
  if (info.ok() && absl::StartsWith(*info, "pos:")) {
    (void)absl::SimpleAtoi(absl::StripAsciiWhitespace(info->substr(4, info->find('\n') - 4)),
                           &position);
  }
  return position;
}

// The first file under `prefix` that process `pid` holds open, at least min_size bytes long,
// with its descriptor's offset past 1 MiB and at least `ahead` bytes before the end (a read
// well under way that is far from done); empty when there is none.
std::string OpenFileUnder(pid_t pid, const std::string& prefix, int64_t min_size,
                          int64_t ahead = 0) {
  const std::string fd_dir = absl::StrCat("/proc/", pid, "/fd");
  DIR* dir = ::opendir(fd_dir.c_str());
  if (dir == nullptr) return "";
  std::string found;
  while (struct dirent* entry = ::readdir(dir)) {
    char target[4096];
    const std::string link = fd_dir + "/" + entry->d_name;
    ssize_t length = ::readlink(link.c_str(), target, sizeof(target) - 1);
    if (length <= 0) continue;
    const std::string path(target, static_cast<size_t>(length));
    struct stat st;
    if (absl::StartsWith(path, prefix) && ::stat(link.c_str(), &st) == 0 &&
        st.st_size >= min_size &&
        (ahead == 0 || (FilePosition(pid, entry->d_name) > (1 << 20) &&
                        FilePosition(pid, entry->d_name) < st.st_size - ahead))) {
      found = path;
      break;
    }
  }
  ::closedir(dir);
  return found;
}

bool IsEmptyDirectory(const std::string& path) {
  DIR* dir = ::opendir(path.c_str());
  if (dir == nullptr) return false;
  int entries = 0;
  while (struct dirent* entry = ::readdir(dir)) {
    if (std::string(entry->d_name) != "." && std::string(entry->d_name) != "..") ++entries;
  }
  ::closedir(dir);
  return entries == 0;
}

class MultihostTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const absl::Time started = absl::Now();
    auto topology = Topology::Start();
    ASSERT_TRUE(topology.ok()) << topology.status();
    topology_ = topology->release();
    auto tarball = topology_->BusyboxTarball();
    ASSERT_TRUE(tarball.ok()) << tarball.status();
    CommandResult imported = topology_->Strata(kA, {"import", *tarball, "base"});
    ASSERT_EQ(imported.exit_code, 0) << imported.error_output;
    std::cout << "topology up and base imported in " << absl::FormatDuration(absl::Now() - started)
              << std::endl;
  }
  static void TearDownTestSuite() {
    delete topology_;
    topology_ = nullptr;
  }

  // Runs strata on `node` and expects it to succeed; returns its stdout.
  static std::string Ok(int node, const std::vector<std::string>& args) {
    CommandResult result = topology_->Strata(node, args);
    EXPECT_EQ(result.exit_code, 0) << "strata " << absl::StrJoin(args, " ") << " on node " << node
                                   << ": " << result.output << result.error_output;
    return result.output;
  }

  static std::string ImageId(int node, const std::string& image) {
    nlohmann::json inspected =
        nlohmann::json::parse(Ok(node, {"inspect", "--type", "image", image}), nullptr, false);
    if (!inspected.is_array() || inspected.empty()) return "";
    return inspected[0].value("Id", "");
  }

  // How many layer snapshots the node has unpacked.
  static int Snapshots(int node) {
    auto listed = topology_->InNode(
        node, "ls " + topology_->node_state(node) + "/root/snapshots 2>/dev/null | wc -l");
    int count = -1;
    if (listed.ok()) {
      EXPECT_TRUE(absl::SimpleAtoi(Trim(listed->output), &count));
    }
    return count;
  }

  // Polls every layerstore replica until one holds open a file under `prefix` of at least
  // min_size bytes; returns its index, or -1 after `timeout`.
  static int ReplicaServing(const std::string& prefix, int64_t min_size, absl::Duration timeout,
                            int64_t ahead = 0) {
    const absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      for (int i = 0; i < 2; ++i) {
        if (!OpenFileUnder(topology_->layerstore_pid(i), prefix, min_size, ahead).empty()) {
          return i;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return -1;
  }

  static inline Topology* topology_ = nullptr;
};

TEST_F(MultihostTest, NodesShareNoDisk) {
  Ok(kA, {"run", "--name", "private", "base", "true"});
  // The node's state is on a tmpfs in its own mount namespace: the host sees an empty
  // directory, and so does every other node.
  EXPECT_TRUE(IsEmptyDirectory(topology_->node_state(kA)));
  auto inside = topology_->InNode(kA, "ls " + topology_->node_state(kA) + "/root");
  ASSERT_TRUE(inside.ok());
  EXPECT_TRUE(absl::StrContains(inside->output, "containers")) << inside->output;
  auto other = topology_->InNode(kB, "ls -A " + topology_->node_state(kA) + " | wc -l");
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(Trim(other->output), "0");
  EXPECT_FALSE(absl::StrContains(Ok(kB, {"ps", "-a"}), "private"));
  Ok(kA, {"rm", "private"});
}

TEST_F(MultihostTest, WhatOneNodeCommitsTheOthersRun) {
  Ok(kA, {"run", "--name", "author", "base", "sh", "-c",
          "echo made on a > /hello && dd if=/dev/urandom of=/blob bs=1M count=4 2>/dev/null && "
          "sha256sum /blob > /blob.sum"});
  const std::string id = Trim(Ok(kA, {"commit", "-m", "from node a", "author", "shared:1"}));
  ASSERT_TRUE(absl::StartsWith(id, "sha256:")) << id;
  Ok(kA, {"rm", "author"});

  for (int node : {kB, kC}) {
    const int before = Snapshots(node);
    const std::string output =
        Ok(node, {"run", "--rm", "shared:1", "sh", "-c", "cat /hello && sha256sum -c /blob.sum"});
    EXPECT_EQ(output, "made on a\n/blob: OK\n") << "node " << node;
    // The node had neither layer of shared:1 (base never ran there) or just the base one:
    // it fetched what it lacked from layerstore and unpacked it.
    EXPECT_GT(Snapshots(node), before) << "node " << node << " unpacked nothing";
    EXPECT_EQ(ImageId(node, "shared:1"), id);
  }
}

TEST_F(MultihostTest, TwoNodesTaggingOneNameAtOnceLoseNothing) {
  Ok(kA, {"run", "--name", "race-a", "base", "sh", "-c", "echo a > /who"});
  Ok(kB, {"run", "--name", "race-b", "base", "sh", "-c", "echo b > /who"});
  CommandResult committed[2];
  std::thread a([&] { committed[0] = topology_->Strata(kA, {"commit", "race-a", "race:latest"}); });
  std::thread b([&] { committed[1] = topology_->Strata(kB, {"commit", "race-b", "race:latest"}); });
  a.join();
  b.join();
  ASSERT_EQ(committed[0].exit_code, 0) << committed[0].error_output;
  ASSERT_EQ(committed[1].exit_code, 0) << committed[1].error_output;
  const std::string id_a = Trim(committed[0].output);
  const std::string id_b = Trim(committed[1].output);
  ASSERT_NE(id_a, id_b);

  // The tag is on one of the two; neither image is lost, and each has its own history.
  const std::string tagged = ImageId(kC, "race:latest");
  EXPECT_TRUE(tagged == id_a || tagged == id_b) << tagged;
  for (const auto& [id, who] : {std::pair{id_a, "a"}, std::pair{id_b, "b"}}) {
    EXPECT_EQ(ImageId(kC, id), id);
    const std::string history = Ok(kC, {"history", "--no-trunc", "--format", "{{.CreatedBy}}", id});
    EXPECT_TRUE(absl::StrContains(history, std::string("echo ") + who + " > /who")) << history;
    EXPECT_EQ(Ok(kC, {"run", "--rm", id, "cat", "/who"}), std::string(who) + "\n");
  }
  Ok(kA, {"rm", "race-a"});
  Ok(kB, {"rm", "race-b"});
}

TEST_F(MultihostTest, ALayerstoreReplicaKilledMidCommitAndMidPull) {
  // A layer big enough to be caught in flight (random: it does not compress).
  Ok(kA, {"run", "--name", "big", "base", "sh", "-c",
          "dd if=/dev/urandom of=/big bs=1M count=192 2>/dev/null && sha256sum /big > /big.sum"});

  // Commit: kill the replica the upload is streaming to, once it has received 8 MiB.
  CommandResult commit;
  std::thread committer([&] {
    commit = topology_->Strata(kA, {"commit", "--compression", "none", "big", "big:1"});
  });
  const int victim =
      ReplicaServing(topology_->store_dir() + "/ingest/", 8 << 20, absl::Seconds(60));
  const absl::Time killed = absl::Now();
  if (victim >= 0) topology_->KillLayerstore(victim);
  committer.join();
  ASSERT_GE(victim, 0) << "no replica was seen receiving the upload";
  ASSERT_EQ(commit.exit_code, 0) << commit.error_output;
  std::cout << "commit finished " << absl::FormatDuration(absl::Now() - killed)
            << " after layerstore replica " << victim << " was killed mid-upload" << std::endl;
  EXPECT_TRUE(absl::StrContains(topology_->NodeLog(kA), "streaming it again"))
      << "the commit did not meet the kill";
  ASSERT_TRUE(topology_->RestartLayerstore(victim).ok());
  Ok(kA, {"rm", "big"});

  // Pull: node B unpacks the layer; kill the replica it reads from.
  CommandResult run;
  std::thread runner([&] {
    run = topology_->Strata(kB, {"run", "--rm", "big:1", "sha256sum", "-c", "/big.sum"});
  });
  // Caught well before the end: node B has unpacked 16 to 96 MiB of the 192, so it must
  // resume from the other replica to get it whole. (The replica reads with pread: its file
  // offset says nothing, the node's unpacking directory does.)
  int reader = -1;
  const absl::Time give_up = absl::Now() + absl::Seconds(60);
  while (reader < 0 && absl::Now() < give_up) {
    const int serving =
        ReplicaServing(topology_->store_dir() + "/blobs/", 64 << 20, absl::Milliseconds(1));
    if (serving < 0) continue;
    auto unpacked = topology_->InNode(
        kB, "du -sm " + topology_->node_state(kB) +
                "/root/snapshots/.tmp-* 2>/dev/null | awk '{s+=$1} END {print s+0}'");
    int megabytes = 0;
    if (unpacked.ok() && absl::SimpleAtoi(Trim(unpacked->output), &megabytes) && megabytes >= 16 &&
        megabytes <= 96) {
      reader = serving;
    }
  }
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
  // Both replicas serve again: a fresh node-C run reads the same layer whole.
  EXPECT_EQ(Ok(kC, {"run", "--rm", "big:1", "sha256sum", "-c", "/big.sum"}), "/big: OK\n");
  Ok(kA, {"rmi", "big:1"});
}

TEST_F(MultihostTest, AnImagegraphReplicaKilledTheOtherServes) {
  for (int victim : {0, 1}) {
    topology_->KillImagegraph(victim);
    const absl::Time killed = absl::Now();
    // The first command after the kill already works: calls go to the replica left.
    const std::string tag = absl::StrCat("survivor:", victim);
    Ok(kA, {"tag", "base", tag});
    std::cout << "first call after imagegraph replica " << victim << " was killed took "
              << absl::FormatDuration(absl::Now() - killed) << std::endl;
    EXPECT_FALSE(ImageId(kB, tag).empty());
    EXPECT_TRUE(absl::StrContains(Ok(kC, {"images"}), "survivor")) << "node C";
    Ok(kA, {"run", "--name", "ig-" + std::to_string(victim), "base", "true"});
    Ok(kA, {"commit", "ig-" + std::to_string(victim), "committed-while-down:" + tag.substr(9)});
    Ok(kA, {"rm", "ig-" + std::to_string(victim)});
    ASSERT_TRUE(topology_->RestartImagegraph(victim).ok());
  }
}

TEST_F(MultihostTest, PostgresRestartedNothingLost) {
  Ok(kA, {"tag", "base", "before-restart:1"});
  const std::string before = Ok(kA, {"images", "-q", "--no-trunc"});
  ASSERT_TRUE(topology_->postgres().Stop().ok());
  ASSERT_TRUE(topology_->postgres().Restart().ok());
  const absl::Time restarted = absl::Now();
  // The replicas reconnect on their own; allow them a few seconds.
  CommandResult images;
  while (absl::Now() < restarted + absl::Seconds(30)) {
    images = topology_->Strata(kB, {"images", "-q", "--no-trunc"});
    if (images.exit_code == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(images.exit_code, 0) << images.error_output;
  std::cout << "imagegraph answered " << absl::FormatDuration(absl::Now() - restarted)
            << " after PostgreSQL restarted" << std::endl;
  EXPECT_EQ(images.output, before);
  EXPECT_FALSE(ImageId(kC, "before-restart:1").empty());
  Ok(kB, {"tag", "base", "after-restart:1"});
}

TEST_F(MultihostTest, ARestartedNodeRecoversItsContainers) {
  Ok(kC, {"run", "-d", "--name", "keeper", "base", "sleep", "600"});
  ASSERT_TRUE(topology_->RestartNode(kC, /*hard=*/true).ok());
  const std::string listed = Ok(kC, {"ps"});
  EXPECT_TRUE(absl::StrContains(listed, "keeper") && absl::StrContains(listed, "Up")) << listed;
  EXPECT_EQ(Ok(kC, {"exec", "keeper", "echo", "alive"}), "alive\n");
  Ok(kC, {"rm", "-f", "keeper"});
}

}  // namespace
}  // namespace strata::multihost
