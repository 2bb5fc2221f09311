// Diff, commit, export and cp against real containers: what a container changed is listed,
// committed, and a container from the committed layer sees exactly the same files.

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "lib/base/errors.h"
#include "lib/base/fs.h"
#include "lib/layer/layer_reader.h"
#include "lib/layer/unpacker.h"
#include "lib/testing/temp_dir.h"
#include "lib/testing/tree.h"
#include "lib/rpc/client.h"
#include "services/layerstore/client/layerstore_client.h"
#include "services/runtime/testing/runtime_fixture.h"

namespace strata::runtime {
namespace {

using strata::testing::MakeDirOrDie;
using strata::testing::WriteFileOrDie;
using testing::RuntimeFixture;

std::string DiffText(Runtime& runtime, const std::string& container) {
  auto changes = runtime.Diff(container);
  EXPECT_TRUE(changes.ok()) << changes.status();
  std::vector<std::string> lines;
  for (const layer::Change& change : *changes) {
    lines.push_back(absl::StrCat(std::string(1, layer::ChangeLetter(change.kind)), " ",
                                 change.path));
  }
  return absl::StrJoin(lines, "\n");
}

// "path type[ -> target]" for every entry of a layer blob.
std::string LayerEntries(BlobStore& blobs, const Digest& digest) {
  auto source = blobs.Open(digest);
  EXPECT_TRUE(source.ok()) << source.status();
  layer::LayerReader reader(source->get());
  std::vector<std::string> lines;
  for (;;) {
    auto entry = reader.NextEntry();
    EXPECT_TRUE(entry.ok()) << entry.status();
    if (!entry.ok() || *entry == nullptr) break;
    std::string line = archive_entry_pathname(*entry);
    const char* hardlink = archive_entry_hardlink(*entry);
    if (hardlink != nullptr) {
      absl::StrAppend(&line, " link=", hardlink);
    } else {
      switch (archive_entry_filetype(*entry)) {
        case AE_IFDIR:
          absl::StrAppend(&line, " dir");
          break;
        case AE_IFLNK:
          absl::StrAppend(&line, " -> ", archive_entry_symlink(*entry));
          break;
        case AE_IFIFO:
          absl::StrAppend(&line, " fifo");
          break;
        default:
          absl::StrAppend(&line, " file");
      }
    }
    lines.push_back(line);
  }
  return absl::StrJoin(lines, "\n");
}

// The container's merged file system, as its export unpacks.
std::string ExportedTree(Runtime& runtime, const std::string& container,
                         const std::string& target) {
  layer::StringSink tar;
  absl::Status exported = runtime.Export(container, &tar);
  EXPECT_TRUE(exported.ok()) << exported;
  EXPECT_TRUE(MakeDirs(target).ok());
  UniqueFd fd(::open(target.c_str(), O_RDONLY | O_DIRECTORY));
  layer::StringSource source(tar.contents());
  auto unpacked = layer::UnpackLayer(&source, fd.get());
  EXPECT_TRUE(unpacked.ok()) << unpacked.status();
  auto tree = strata::testing::DescribeTree(target);
  EXPECT_TRUE(tree.ok());
  return *tree;
}

class ChangesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MakeDirOrDie(dir_.Join("base/data/dir"));
    MakeDirOrDie(dir_.Join("base/opq"));
    for (const char* file : {"keep", "change", "remove", "recreate", "rename-me", "xattr"}) {
      WriteFileOrDie(dir_.Join(absl::StrCat("base/data/", file)), file);
    }
    WriteFileOrDie(dir_.Join("base/data/dir/x"), "x");
    WriteFileOrDie(dir_.Join("base/opq/old1"), "1");
    WriteFileOrDie(dir_.Join("base/opq/old2"), "2");
    auto base = fixture_.PushLayer(dir_.Join("base"));
    ASSERT_TRUE(base.ok()) << base.status();
    image_ = {fixture_.BusyboxLayer(), *base};
  }

  // Runs a script in a new container and waits for it.
  std::string RunScript(const std::string& script, const std::string& name) {
    auto record = fixture_.CreateContainer(image_, {"sh", "-c", script}, name);
    EXPECT_TRUE(record.ok()) << record.status();
    EXPECT_TRUE(fixture_.runtime().Start(name).ok());
    auto exit = fixture_.runtime().Wait(name, absl::Now() + absl::Seconds(60));
    EXPECT_TRUE(exit.ok());
    EXPECT_EQ(exit->exit_code, 0);
    return record->id;
  }

  RuntimeFixture fixture_;
  strata::testing::TempDir dir_{"changes"};
  std::vector<oci::LayerDescriptor> image_;
};

TEST_F(ChangesTest, EveryKindOfChangeIsListedCommittedAndReproduced) {
  Runtime& runtime = fixture_.runtime();
  const std::string id = RunScript(
      "echo new > /added && echo more >> /data/change && chown 1000:1000 /data/change && "
      "rm /data/remove && rm /data/recreate && echo again > /data/recreate && "
      "mv /data/rename-me /data/renamed && chmod 600 /data/keep && ln /added /hard && "
      "ln -s /data/keep /sym && rm -rf /opq && mkdir /opq && echo n > /opq/new && "
      "mkdir -p /newdir/sub && echo f > /newdir/sub/f && mkfifo /fifo",
      "changer");
  // xattrs: busybox has no setfattr; set one through the container's mounted file system.
  const std::string rootfs = fixture_.root() + "/containers/" + id + "/rootfs";
  ASSERT_EQ(::setxattr((rootfs + "/data/xattr").c_str(), "user.note", "v", 1, 0), 0);

  EXPECT_EQ(DiffText(runtime, "changer"),
            "A /added\n"
            "C /data\n"
            "C /data/change\n"
            "C /data/keep\n"
            "C /data/recreate\n"
            "D /data/remove\n"
            "D /data/rename-me\n"
            "A /data/renamed\n"
            "C /data/xattr\n"
            "A /fifo\n"
            "A /hard\n"
            "A /newdir\n"
            "A /newdir/sub\n"
            "A /newdir/sub/f\n"
            "C /opq\n"
            "A /opq/new\n"
            "D /opq/old1\n"
            "D /opq/old2\n"
            "A /sym");

  auto commit = runtime.Commit("changer", {});
  ASSERT_TRUE(commit.ok()) << commit.status();
  EXPECT_FALSE(commit->empty);
  EXPECT_EQ(commit->layer.media_type, "application/vnd.oci.image.layer.v1.tar+zstd");
  EXPECT_EQ(commit->args, (std::vector<std::string>{"sh", "-c", commit->args[2]}));
  EXPECT_EQ(LayerEntries(fixture_.blobs(), commit->layer.digest),
            "added file\n"
            "data/ dir\n"
            "data/change file\n"
            "data/keep file\n"
            "data/recreate file\n"
            "data/.wh.remove file\n"
            "data/.wh.rename-me file\n"
            "data/renamed file\n"
            "data/xattr file\n"
            "fifo fifo\n"
            "hard link=added\n"
            "newdir/ dir\n"
            "newdir/sub/ dir\n"
            "newdir/sub/f file\n"
            "opq/ dir\n"
            "opq/.wh..wh..opq file\n"
            "opq/new file\n"
            "sym -> /data/keep");

  // A container from the committed image sees exactly the original's files.
  std::vector<oci::LayerDescriptor> committed = image_;
  committed.push_back(commit->layer);
  auto copy = fixture_.CreateContainer(committed, {"true"}, "copy");
  ASSERT_TRUE(copy.ok()) << copy.status();
  const std::string original_tree = ExportedTree(runtime, "changer", dir_.Join("original"));
  EXPECT_EQ(ExportedTree(runtime, "copy", dir_.Join("copy")), original_tree);
  EXPECT_TRUE(absl::StrContains(original_tree, "/data/change 008000 01a4 1000:1000"));
  EXPECT_TRUE(absl::StrContains(original_tree, "/data/keep 008000 0180"));
  EXPECT_TRUE(absl::StrContains(original_tree, "xattr:user.note=v"));
  EXPECT_FALSE(absl::StrContains(original_tree, "/opq/old1"));

  // The same content committed again gives the same layer.
  auto again = runtime.Commit("changer", {});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->layer.diff_id, commit->layer.diff_id);
  EXPECT_EQ(again->layer.digest, commit->layer.digest);
}

TEST_F(ChangesTest, AFileChangedInALowerLayerIsCopiedUpWhole) {
  const std::string big(3 << 20, 'b');
  MakeDirOrDie(dir_.Join("second"));
  WriteFileOrDie(dir_.Join("second/big"), big);
  auto second = fixture_.PushLayer(dir_.Join("second"));
  ASSERT_TRUE(second.ok());
  image_.push_back(*second);
  RunScript("echo tail >> /big", "appender");
  EXPECT_EQ(DiffText(fixture_.runtime(), "appender"), "C /big");
  auto commit = fixture_.runtime().Commit("appender", {});
  ASSERT_TRUE(commit.ok());
  EXPECT_GT(commit->layer.uncompressed_size, static_cast<int64_t>(big.size()));
  std::vector<oci::LayerDescriptor> committed = image_;
  committed.push_back(commit->layer);
  auto result = fixture_.Run(committed, {"sh", "-c", "wc -c < /big; tail -c 6 /big"});
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->stdout_text, absl::StrCat(big.size() + 5, "\nbtail\n"));
}

TEST_F(ChangesTest, GzipAndUncompressedCommitsToo) {
  RunScript("echo x > /x", "small");
  for (auto [compression, media_type] :
       {std::pair{layer::Compression::kGzip, "application/vnd.oci.image.layer.v1.tar+gzip"},
        std::pair{layer::Compression::kNone, "application/vnd.oci.image.layer.v1.tar"}}) {
    auto commit = fixture_.runtime().Commit("small", {.compression = compression});
    ASSERT_TRUE(commit.ok()) << commit.status();
    EXPECT_EQ(commit->layer.media_type, media_type);
    std::vector<oci::LayerDescriptor> committed = image_;
    committed.push_back(commit->layer);
    auto result = fixture_.Run(committed, {"cat", "/x"});
    ASSERT_TRUE(result.ok());
    EXPECT_EQ(result->stdout_text, "x\n");
  }
}

TEST_F(ChangesTest, CommitOfARunningContainerThatKeepsWriting) {
  Runtime& runtime = fixture_.runtime();
  ASSERT_TRUE(fixture_
                  .CreateContainer(image_, {"sh", "-c",
                                            "i=0; while true; do i=$((i+1)); echo $i > /tmp/n.new; "
                                            "mv /tmp/n.new /tmp/n; echo $i >> /tmp/log; done"},
                                   "writer")
                  .ok());
  ASSERT_TRUE(runtime.Start("writer").ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  auto commit = runtime.Commit("writer", {});
  ASSERT_TRUE(commit.ok()) << commit.status();
  EXPECT_EQ(runtime.Inspect("writer")->state, ContainerState::kRunning) << "resumed after";
  // Paused for the commit, the layer is one moment of the loop: the counter file is the last
  // line of the log, or one ahead of it.
  std::vector<oci::LayerDescriptor> committed = image_;
  committed.push_back(commit->layer);
  auto result = fixture_.Run(
      committed, {"sh", "-c",
                  "n=$(cat /tmp/n); l=$(tail -n1 /tmp/log); "
                  "{ [ \"$n\" = \"$l\" ] || [ \"$n\" = \"$((l+1))\" ]; } && echo consistent"});
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->stdout_text, "consistent\n");
  // A user-paused container stays paused; a live commit works too.
  ASSERT_TRUE(runtime.Pause("writer").ok());
  ASSERT_TRUE(runtime.Commit("writer", {}).ok());
  EXPECT_EQ(runtime.Inspect("writer")->state, ContainerState::kPaused);
  ASSERT_TRUE(runtime.Unpause("writer").ok());
  EXPECT_TRUE(runtime.Commit("writer", {.pause = false}).ok());
  EXPECT_TRUE(runtime.Remove("writer", true).ok());
  EXPECT_EQ(runtime.Commit("writer", {}).status().code(), absl::StatusCode::kNotFound);
}

// A blob store whose uploads fail after some bytes: what a commit that fails mid-way leaves.
class FailingBlobs : public BlobStore {
 public:
  explicit FailingBlobs(BlobStore* real) : real_(real) {}
  absl::StatusOr<std::unique_ptr<layer::ByteSource>> Open(const Digest& digest) override {
    return real_->Open(digest);
  }
  absl::StatusOr<std::unique_ptr<BlobUpload>> StartUpload(const std::string& ref) override {
    class Failing : public BlobUpload {
     public:
      explicit Failing(std::unique_ptr<BlobUpload> real) : real_(std::move(real)) {}
      absl::Status Write(absl::string_view data) override {
        written_ += data.size();
        if (written_ > (1 << 20)) return absl::UnavailableError("injected failure");
        return real_->Write(data);
      }
      absl::Status Commit(const Digest& digest, int64_t size) override {
        return real_->Commit(digest, size);
      }
      void Abort() override { real_->Abort(); }

     private:
      std::unique_ptr<BlobUpload> real_;
      size_t written_ = 0;
    };
    ASSIGN_OR_RETURN(std::unique_ptr<BlobUpload> upload, real_->StartUpload(ref));
    last_ref_ = ref;
    return std::unique_ptr<BlobUpload>(new Failing(std::move(upload)));
  }
  std::string last_ref_;

 private:
  BlobStore* real_;
};

TEST_F(ChangesTest, AFailedCommitLeavesNothingBehind) {
  RunScript("head -c 5000000 /dev/urandom > /random", "big");
  layerstore::LayerstoreClient layerstore(*rpc::Dial({.address = fixture_.layerstore_address()}));
  auto before = layerstore.List();
  ASSERT_TRUE(before.ok()) << before.status();

  FailingBlobs failing(&fixture_.blobs());
  fixture_.RestartRuntime(200, &failing);
  auto commit = fixture_.runtime().Commit("big", {});
  EXPECT_EQ(commit.status().code(), absl::StatusCode::kUnavailable) << commit.status();
  EXPECT_TRUE(absl::StrContains(commit.status().message(), "injected failure"));
  // Neither a blob nor the upload stays in layerstore.
  auto after = layerstore.List();
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->blobs.size(), before->blobs.size());
  EXPECT_EQ(layerstore.WriteStatus(failing.last_ref_).status().code(),
            absl::StatusCode::kNotFound);
  // The container is unharmed and commits fine with a working store.
  fixture_.RestartRuntime();
  EXPECT_TRUE(fixture_.runtime().Commit("big", {}).ok());
}

TEST_F(ChangesTest, ExportEqualsTheMergedView) {
  const std::string id = RunScript("echo e > /exported && rm /data/keep", "exporter");
  const std::string rootfs = fixture_.root() + "/containers/" + id + "/rootfs";
  auto merged = strata::testing::DescribeTree(rootfs);
  ASSERT_TRUE(merged.ok());
  EXPECT_EQ(ExportedTree(fixture_.runtime(), "exporter", dir_.Join("export")), *merged);
  EXPECT_TRUE(absl::StrContains(*merged, "/exported "));
  EXPECT_FALSE(absl::StrContains(*merged, "/data/keep "));
}

TEST_F(ChangesTest, CopyFromResolvesInsideTheContainer) {
  RunScript("mkdir -p /out/sub && echo a > /out/a && echo b > /out/sub/b && "
            "ln -s /out/a /link && ln -s / /rootlink",
            "copier");
  Runtime& runtime = fixture_.runtime();
  auto copy = [&](const std::string& path, bool follow, PathInfo* info) {
    layer::StringSink tar;
    absl::Status status = runtime.CopyFrom(
        "copier", path, follow,
        [info](const PathInfo& got) {
          *info = got;
          return absl::OkStatus();
        },
        &tar);
    EXPECT_TRUE(status.ok()) << status;
    layer::StringSource source(tar.contents());
    layer::LayerReader reader(&source);
    std::vector<std::string> names;
    for (;;) {
      auto entry = reader.NextEntry();
      if (!entry.ok() || *entry == nullptr) break;
      names.push_back(archive_entry_pathname(*entry));
    }
    return absl::StrJoin(names, " ");
  };
  PathInfo info;
  EXPECT_EQ(copy("/out/a", false, &info), "a");
  EXPECT_EQ(info.size, 2);
  EXPECT_EQ(copy("/out", false, &info), "out/ out/a out/sub/ out/sub/b");
  EXPECT_TRUE(S_ISDIR(info.mode));
  EXPECT_EQ(copy("/link", false, &info), "link");
  EXPECT_EQ(info.link_target, "/out/a");
  EXPECT_EQ(copy("/link", true, &info), "link");
  EXPECT_TRUE(S_ISREG(info.mode));
  // "/" inside the container, never the host's.
  EXPECT_EQ(copy("/rootlink/out/sub/b", true, &info), "b");
  absl::Status missing = runtime.CopyFrom(
      "copier", "/nope", false, [](const PathInfo&) { return absl::OkStatus(); }, nullptr);
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(absl::StrContains(missing.message(), "/nope"));
  EXPECT_EQ(runtime.CopyFrom("copier", "relative", false,
                             [](const PathInfo&) { return absl::OkStatus(); }, nullptr)
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(ChangesTest, AnUnchangedContainerCommitsAnEmptyLayer) {
  RunScript("true", "idle");
  EXPECT_EQ(DiffText(fixture_.runtime(), "idle"), "");
  auto commit = fixture_.runtime().Commit("idle", {});
  ASSERT_TRUE(commit.ok());
  EXPECT_TRUE(commit->empty);
}

}  // namespace
}  // namespace strata::runtime
