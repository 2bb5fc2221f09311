// Trees a container can make, walked where the services walk them: on a thread with a small
// stack (gRPC's server threads). A tree 10,000 levels deep used to crash the runtime (the
// walk recursed once per level); now every walk refuses it with an error naming the path,
// removal still removes it, and trees within the bounds are walked in time linear in their
// entries. Also: archives with paths longer than PATH_MAX are refused by name.

#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "lib/base/fs.h"
#include "lib/layer/layer_writer.h"
#include "lib/layer/overlay_diff.h"
#include "lib/layer/stream.h"
#include "lib/layer/tar_writer.h"
#include "lib/layer/tree_walker.h"
#include "lib/layer/unpacker.h"
#include "lib/testing/temp_dir.h"

namespace strata::layer {
namespace {

// gRPC's server threads have small stacks; 256 KiB is smaller than any of them.
constexpr size_t kSmallStack = 256 << 10;

// Runs fn on a new thread with a small stack and waits for it.
void RunOnSmallStack(const std::function<void()>& fn) {
  pthread_attr_t attr;
  ASSERT_EQ(::pthread_attr_init(&attr), 0);
  ASSERT_EQ(::pthread_attr_setstacksize(&attr, kSmallStack), 0);
  pthread_t thread;
  auto trampoline = [](void* arg) -> void* {
    (*static_cast<const std::function<void()>*>(arg))();
    return nullptr;
  };
  ASSERT_EQ(::pthread_create(&thread, &attr, trampoline, const_cast<std::function<void()>*>(&fn)),
            0);
  ::pthread_join(thread, nullptr);
  ::pthread_attr_destroy(&attr);
}

// root/d/d/d/... `levels` deep, made with descriptors (the path is longer than PATH_MAX), with
// a file at the bottom.
void MakeDeepTree(const std::string& root, int levels) {
  UniqueFd dir(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  ASSERT_TRUE(dir.valid());
  for (int i = 0; i < levels; ++i) {
    ASSERT_EQ(::mkdirat(dir.get(), "d", 0755), 0) << "level " << i;
    UniqueFd next(::openat(dir.get(), "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(next.valid()) << "level " << i;
    dir = std::move(next);
  }
  UniqueFd file(::openat(dir.get(), "bottom", O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
  ASSERT_TRUE(file.valid());
}

class DeepTreeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::mkdir(tree_.c_str(), 0755), 0);
    root_ = UniqueFd(::open(tree_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(root_.valid());
  }

  strata::testing::TempDir temp_;
  const std::string tree_ = temp_.Join("tree");
  UniqueFd root_;
};

TEST_F(DeepTreeTest, TenThousandLevelsAreRefusedByEveryWalkNotACrash) {
  MakeDeepTree(tree_, 10000);
  RunOnSmallStack([&] {
    size_t visited = 0;
    absl::Status walked = WalkTree(root_.get(), [&](const TreeEntry&) -> absl::StatusOr<Visit> {
      ++visited;
      return Visit::kContinue;
    });
    EXPECT_EQ(walked.code(), absl::StatusCode::kFailedPrecondition) << walked;
    EXPECT_TRUE(absl::StrContains(walked.message(), "/d/d/d")) << walked;
    EXPECT_LT(walked.message().size(), 1024u);

    absl::StatusOr<std::vector<Change>> diff = OverlayChanges(tree_, {});
    EXPECT_EQ(diff.status().code(), absl::StatusCode::kFailedPrecondition) << diff.status();

    StringSink commit;
    LayerWriteOptions options;
    options.compression = Compression::kNone;
    absl::StatusOr<LayerDigests> layer = WriteOverlayUpperAsLayer(root_.get(), options, &commit);
    EXPECT_EQ(layer.status().code(), absl::StatusCode::kFailedPrecondition) << layer.status();

    StringSink exported;
    absl::StatusOr<uint64_t> tar = WriteTreeAsTar(root_.get(), &exported);
    EXPECT_EQ(tar.status().code(), absl::StatusCode::kFailedPrecondition) << tar.status();

    StringSink copied;
    absl::StatusOr<uint64_t> cp = WriteEntryAsTar(root_.get(), "d", "d", &copied);
    EXPECT_EQ(cp.status().code(), absl::StatusCode::kFailedPrecondition) << cp.status();

    // Removing a container (or a snapshot) must work for any tree it holds.
    absl::Status removed = RemoveAll(tree_);
    EXPECT_TRUE(removed.ok()) << removed;
  });
  struct stat st;
  EXPECT_NE(::lstat(tree_.c_str(), &st), 0);
}

TEST_F(DeepTreeTest, DeepTreeWithinTheBoundsIsWalkedInLinearTime) {
  // "d/" per level: 1,500 levels make a 3,000-byte path, within PATH_MAX.
  constexpr int kLevels = 1500;
  MakeDeepTree(tree_, kLevels);
  RunOnSmallStack([&] {
    const auto start = std::chrono::steady_clock::now();
    size_t visited = 0;
    ASSERT_TRUE(WalkTree(root_.get(), [&](const TreeEntry&) -> absl::StatusOr<Visit> {
                  ++visited;
                  return Visit::kContinue;
                }).ok());
    EXPECT_EQ(visited, static_cast<size_t>(kLevels + 1));

    absl::StatusOr<std::vector<Change>> diff = OverlayChanges(tree_, {});
    ASSERT_TRUE(diff.ok()) << diff.status();
    EXPECT_EQ(diff->size(), static_cast<size_t>(kLevels + 1));
    for (const Change& change : *diff) EXPECT_EQ(change.kind, ChangeKind::kAdded) << change.path;

    // Commit, then unpack what it wrote (unpack, too, on the small stack).
    StringSink layer;
    ASSERT_TRUE(WriteTreeAsTar(root_.get(), &layer).ok());
    const std::string unpacked = temp_.Join("unpacked");
    ASSERT_EQ(::mkdir(unpacked.c_str(), 0755), 0);
    UniqueFd unpacked_fd(::open(unpacked.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    StringSource source(layer.contents());
    absl::StatusOr<UnpackStats> stats = UnpackLayer(&source, unpacked_fd.get());
    ASSERT_TRUE(stats.ok()) << stats.status();
    EXPECT_EQ(stats->entries, static_cast<uint64_t>(kLevels + 1));
    size_t unpacked_entries = 0;
    ASSERT_TRUE(WalkTree(unpacked_fd.get(), [&](const TreeEntry&) -> absl::StatusOr<Visit> {
                  ++unpacked_entries;
                  return Visit::kContinue;
                }).ok());
    EXPECT_EQ(unpacked_entries, static_cast<size_t>(kLevels + 1));
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    // Quadratic (or worse) code took minutes here; linear takes well under a second.
    EXPECT_LT(seconds, 20.0);
    ASSERT_TRUE(RemoveAll(unpacked).ok());
  });
}

TEST(LongPathTest, AnEntryPathLongerThanPathMaxIsRefusedByName) {
  StringSink archive;
  {
    TarWriter tar(&archive);
    TarHeader header;
    std::string path;
    for (int i = 0; i < 50; ++i) path += std::string(99, 'a' + i % 26) + "/";
    path += "end";  // 5,003 bytes
    header.path = path;
    header.mode = S_IFREG | 0644;
    ASSERT_TRUE(tar.WriteEntry(header).ok());
    ASSERT_TRUE(tar.Finish().ok());
  }
  strata::testing::TempDir temp;
  UniqueFd root(::open(temp.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  StringSource source(archive.contents());
  absl::StatusOr<UnpackStats> stats = UnpackLayer(&source, root.get());
  ASSERT_EQ(stats.status().code(), absl::StatusCode::kInvalidArgument) << stats.status();
  EXPECT_TRUE(absl::StrContains(stats.status().message(), "path too long")) << stats.status();
  EXPECT_TRUE(absl::StrContains(stats.status().message(), "aaaa")) << stats.status();
  EXPECT_TRUE(absl::StrContains(stats.status().message(), "/end")) << stats.status();
  EXPECT_LT(stats.status().message().size(), 1024u);
}

}  // namespace
}  // namespace strata::layer
