// FsBlobStore: the conformance suite, plus what is particular to the directory layout.

#include "services/layerstore/core/fs_blob_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "lib/base/fs.h"
#include "lib/testing/temp_dir.h"
#include "services/layerstore/core/blob_store_conformance.h"
#include "services/layerstore/core/chunk_worker.h"
#include "services/layerstore/core/test_blobs.h"

namespace strata::layerstore {
namespace {

using ::testing::UnorderedElementsAre;

class FsHarness : public BlobStoreHarness {
 public:
  explicit FsHarness(const FsBlobStore::Options& options) : dir_("layerstore"), options_(options) {
    Restart();
  }
  BlobStore& store() override { return *store_; }
  void Restart() override {
    store_.reset();
    store_ = Open();
  }
  std::unique_ptr<BlobStore> OpenReplica() override { return Open(); }

 private:
  std::unique_ptr<FsBlobStore> Open() {
    auto store = FsBlobStore::Open(dir_.Join("root"), options_);
    EXPECT_TRUE(store.ok()) << store.status();
    return std::move(*store);
  }

  testing::TempDir dir_;
  const FsBlobStore::Options options_;
  std::unique_ptr<FsBlobStore> store_;
};

INSTANTIATE_TEST_SUITE_P(
    Fs, BlobStoreConformanceTest,
    ::testing::Values(
        BlobStoreConformanceParam{
            "DefaultOptions", [] { return std::make_unique<FsHarness>(FsBlobStore::Options()); }},
        // Tiny budgets, so the hashing, writing and syncing queues fill up and wait.
        BlobStoreConformanceParam{"TinyQueues",
                                  [] {
                                    FsBlobStore::Options options;
                                    options.max_queued_bytes = 1;
                                    options.writeback_interval_bytes = 4096;
                                    options.sync_interval_bytes = 256 * 1024;
                                    return std::make_unique<FsHarness>(options);
                                  }},
        // The page cache used plainly: no dropping, no syncing before commit.
        BlobStoreConformanceParam{"PlainPageCache",
                                  [] {
                                    FsBlobStore::Options options;
                                    options.writeback_interval_bytes = 0;
                                    options.sync_interval_bytes = 0;
                                    options.stream_past_page_cache = false;
                                    return std::make_unique<FsHarness>(options);
                                  }}),
    BlobStoreConformanceTest::ParamName);

// Every path below dir, relative to it.
void Walk(const std::string& dir, const std::string& prefix, std::vector<std::string>* out) {
  auto names = [&]() {
    std::vector<std::string> names;
    if (DIR* d = ::opendir(dir.c_str())) {
      while (struct dirent* e = ::readdir(d)) {
        std::string name = e->d_name;
        if (name != "." && name != "..") names.push_back(name);
      }
      ::closedir(d);
    }
    return names;
  }();
  for (const std::string& name : names) {
    const std::string relative = prefix.empty() ? name : prefix + "/" + name;
    out->push_back(relative);
    struct stat st;
    if (::lstat((dir + "/" + name).c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      Walk(dir + "/" + name, relative, out);
    }
  }
}

class FsBlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = FsBlobStore::Open(dir_.Join("root"));
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }

  absl::StatusOr<CommitResult> Upload(const std::string& ref, const std::string& data) {
    auto writer = store_->OpenWriter(ref, {});
    if (!writer.ok()) return writer.status();
    absl::Status written = (*writer)->Write(0, data);
    if (!written.ok()) return written;
    return (*writer)->Commit();
  }

  testing::TempDir dir_{"layerstore"};
  std::unique_ptr<FsBlobStore> store_;
};

TEST_F(FsBlobStoreTest, BlobsLiveUnderTheirDigestAndReadOnly) {
  const std::string data = RandomBytes(5000, 1);
  const Digest digest = Digest::Of(data);
  ASSERT_TRUE(Upload("layout", data).ok());
  const std::string hex(digest.hex());
  const std::string path = dir_.Join("root/blobs/sha256/" + hex.substr(0, 2) + "/" + hex);
  EXPECT_EQ(store_->BlobPath(digest), path);
  auto contents = ReadFile(path);
  ASSERT_TRUE(contents.ok()) << contents.status();
  EXPECT_TRUE(*contents == data);
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0444u);

  std::vector<std::string> all;
  Walk(dir_.path(), "", &all);
  EXPECT_THAT(all, UnorderedElementsAre("root", "root/blobs", "root/blobs/sha256",
                                        "root/blobs/sha256/" + hex.substr(0, 2),
                                        "root/blobs/sha256/" + hex.substr(0, 2) + "/" + hex,
                                        "root/ingest"));
}

TEST_F(FsBlobStoreTest, UploadsLiveUnderAHashOfTheirRef) {
  const std::vector<std::string> refs = {"../../../../escape", "/etc/passwd", "a/../../b",
                                         std::string("\0", 1), "..",          "ingest/../blobs"};
  std::vector<std::unique_ptr<IngestWriter>> writers;
  for (const std::string& ref : refs) {
    auto writer = store_->OpenWriter(ref, {});
    ASSERT_TRUE(writer.ok()) << writer.status();
    ASSERT_TRUE((*writer)->Write(0, "partial").ok());
    EXPECT_EQ(store_->UploadDir(ref),
              dir_.Join("root/ingest/") + std::string(Digest::Of(ref).hex()));
    writers.push_back(std::move(*writer));
  }
  std::vector<std::string> all;
  Walk(dir_.path(), "", &all);
  for (const std::string& path : all) {
    EXPECT_TRUE(absl::StartsWith(path, "root")) << path;
    if (absl::StartsWith(path, "root/ingest/")) {
      const std::string rest = path.substr(strlen("root/ingest/"));
      const std::string name = rest.substr(0, rest.find('/'));
      EXPECT_TRUE(name.size() == 64 && IsLowerHex(name)) << path;
    }
  }
  // Nothing appeared beside the root.
  std::vector<std::string> beside;
  Walk(Dirname(dir_.path()), "", &beside);
  for (const std::string& path : beside) {
    EXPECT_FALSE(absl::StrContains(path, "escape") || absl::StrContains(path, "passwd")) << path;
  }
}

TEST_F(FsBlobStoreTest, AWriterHoldsAnFlockOtherProcessesSee) {
  auto writer = store_->OpenWriter("locked", {});
  ASSERT_TRUE(writer.ok());
  const std::string data = store_->UploadDir("locked") + "/data";
  // flock locks belong to open file descriptions: a second open conflicts exactly as one in
  // another process would.
  UniqueFd other(::open(data.c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(other.valid());
  EXPECT_NE(::flock(other.get(), LOCK_EX | LOCK_NB), 0);
  EXPECT_EQ(errno, EWOULDBLOCK);
  writer->reset();
  EXPECT_EQ(::flock(other.get(), LOCK_EX | LOCK_NB), 0);
  // And a lock held by someone else (e.g. another process) makes the store refuse the ref.
  auto refused = store_->OpenWriter("locked", {});
  EXPECT_TRUE(absl::IsAborted(refused.status())) << refused.status();
  EXPECT_TRUE(absl::IsAborted(store_->AbortUpload("locked")));
  other.Reset();
  EXPECT_TRUE(store_->OpenWriter("locked", {}).ok());
}

TEST_F(FsBlobStoreTest, CommitEmptiesTheIngestArea) {
  ASSERT_TRUE(Upload("one", "1").ok());
  ASSERT_TRUE(Upload("two", "1").ok());  // already existed
  std::vector<std::string> ingest;
  Walk(dir_.Join("root/ingest"), "", &ingest);
  EXPECT_TRUE(ingest.empty()) << ingest[0];
}

TEST_F(FsBlobStoreTest, DamagedUploadIsReplaced) {
  {
    auto writer = store_->OpenWriter("damaged", {});
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->Write(0, "abc").ok());
  }
  ASSERT_TRUE(WriteFileAtomically(store_->UploadDir("damaged") + "/meta", "{not json").ok());
  EXPECT_TRUE(absl::IsNotFound(store_->GetUploadStatus("damaged").status()));
  auto writer = store_->OpenWriter("damaged", {});
  ASSERT_TRUE(writer.ok()) << writer.status();
  EXPECT_EQ((*writer)->offset(), 0);
}

TEST_F(FsBlobStoreTest, InterruptedRemovalIsFinished) {
  {
    auto writer = store_->OpenWriter("half-removed", {});
    ASSERT_TRUE(writer.ok());
  }
  // A crash between the removal's steps leaves the directory without its data file.
  ASSERT_EQ(::unlink((store_->UploadDir("half-removed") + "/data").c_str()), 0);
  EXPECT_TRUE(absl::IsNotFound(store_->GetUploadStatus("half-removed").status()));
  auto writer = store_->OpenWriter("half-removed", {});
  ASSERT_TRUE(writer.ok()) << writer.status();
  ASSERT_TRUE((*writer)->Write(0, "x").ok());
  EXPECT_TRUE((*writer)->Commit().ok());
}

TEST_F(FsBlobStoreTest, CleanUpRemovesLeftoverTemporaryDirectories) {
  ASSERT_TRUE(MakeDirs(dir_.Join("root/ingest/.tmp-0123456789abcdef")).ok());
  ASSERT_TRUE(WriteFileAtomically(dir_.Join("root/ingest/.tmp-0123456789abcdef/meta"), "{}").ok());
  absl::SleepFor(absl::Milliseconds(30));
  auto removed = store_->CleanUpAbandonedUploads(absl::Milliseconds(10));
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_EQ(*removed, 1);
  EXPECT_FALSE(PathExists(dir_.Join("root/ingest/.tmp-0123456789abcdef")));
}

TEST_F(FsBlobStoreTest, ListSkipsForeignFiles) {
  ASSERT_TRUE(Upload("real", "real").ok());
  ASSERT_TRUE(MakeDirs(dir_.Join("root/blobs/sha256/zz")).ok());
  ASSERT_TRUE(WriteFileAtomically(dir_.Join("root/blobs/sha256/zz/junk"), "x").ok());
  const std::string hex(Digest::Of("real").hex());
  ASSERT_TRUE(
      WriteFileAtomically(dir_.Join("root/blobs/sha256/" + hex.substr(0, 2) + "/not-a-digest"), "x")
          .ok());
  auto page = store_->List(std::nullopt, 10);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->blobs.size(), 1u);
  EXPECT_EQ(page->blobs[0].digest, Digest::Of("real"));
}

TEST(ChunkWorkerTest, StartsThenProcessesChunksInOrder) {
  std::string seen = "start:";
  ChunkWorker worker(
      /*max_queued_bytes=*/3,
      [&] {
        absl::SleepFor(absl::Milliseconds(20));  // chunks queue up meanwhile
        seen += "done;";
        return absl::OkStatus();
      },
      [&](const ChunkWorker::Chunk& chunk) {
        absl::StrAppend(&seen, chunk.offset, "=", *chunk.data, ";");
        return absl::OkStatus();
      });
  int64_t offset = 0;
  for (const char* text : {"ab", "cdef", "g", "hi"}) {
    ASSERT_TRUE(worker.Add({std::make_shared<const std::string>(text), offset}).ok());
    offset += static_cast<int64_t>(strlen(text));
  }
  ASSERT_TRUE(worker.Drain().ok());
  EXPECT_EQ(seen, "start:done;0=ab;2=cdef;6=g;7=hi;");
}

TEST(ChunkWorkerTest, TheFirstErrorStopsTheWork) {
  int processed = 0;
  ChunkWorker worker(1 << 20, nullptr, [&](const ChunkWorker::Chunk& chunk) {
    ++processed;
    return *chunk.data == "bad" ? absl::DataLossError("bad chunk") : absl::OkStatus();
  });
  ASSERT_TRUE(worker.Add({std::make_shared<const std::string>("good"), 0}).ok());
  ASSERT_TRUE(worker.Add({std::make_shared<const std::string>("bad"), 4}).ok());
  EXPECT_TRUE(absl::IsDataLoss(worker.Drain()));
  EXPECT_TRUE(absl::IsDataLoss(worker.Add({std::make_shared<const std::string>("more"), 7})));
  EXPECT_EQ(processed, 2);
}

TEST(ChunkWorkerTest, AFailedStartIsReported) {
  ChunkWorker worker(
      1, [] { return absl::InternalError("no start"); },
      [](const ChunkWorker::Chunk&) { return absl::OkStatus(); });
  EXPECT_TRUE(absl::IsInternal(worker.Drain()));
}

TEST(ChunkWorkerTest, FinishOnDestroyProcessesWhatIsQueued) {
  std::atomic<int> processed{0};
  {
    ChunkWorker worker(
        1 << 20,
        [] {
          absl::SleepFor(absl::Milliseconds(20));
          return absl::OkStatus();
        },
        [&](const ChunkWorker::Chunk&) {
          ++processed;
          return absl::OkStatus();
        });
    worker.finish_on_destroy();
    for (int i = 0; i < 5; ++i) {
      ASSERT_TRUE(worker.Add({std::make_shared<const std::string>("x"), i}).ok());
    }
  }
  EXPECT_EQ(processed.load(), 5);
}

TEST(ChunkWorkerTest, DestroyingWithoutDrainDoesNotHang) {
  ChunkWorker worker(1, nullptr, [](const ChunkWorker::Chunk&) {
    absl::SleepFor(absl::Milliseconds(5));
    return absl::OkStatus();
  });
  ASSERT_TRUE(worker.Add({std::make_shared<const std::string>("a"), 0}).ok());
  ASSERT_TRUE(worker.Add({std::make_shared<const std::string>("b"), 1}).ok());
}

TEST_F(FsBlobStoreTest, ResumeReadsBackWhatTheFileHolds) {
  // The prefix a resumed upload hashes comes from the file, so bytes changed behind the
  // store's back are caught by the digest check.
  const std::string data = RandomBytes(3 * 1024 * 1024 + 17, 2);
  const size_t cut = 1024 * 1024 + 5;
  {
    auto writer = store_->OpenWriter("tampered", {.digest = Digest::Of(data)});
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->Write(0, data.substr(0, cut)).ok());
  }
  {
    UniqueFd fd(::open((store_->UploadDir("tampered") + "/data").c_str(), O_WRONLY | O_CLOEXEC));
    ASSERT_TRUE(fd.valid());
    ASSERT_EQ(::pwrite(fd.get(), "X", 1, 1000), 1);
  }
  auto writer = store_->OpenWriter("tampered", {});
  ASSERT_TRUE(writer.ok());
  ASSERT_EQ((*writer)->offset(), static_cast<int64_t>(cut));
  ASSERT_TRUE((*writer)->Write(cut, data.substr(cut)).ok());
  auto result = (*writer)->Commit();
  EXPECT_TRUE(absl::IsInvalidArgument(result.status())) << result.status();
}

TEST_F(FsBlobStoreTest, AShortenedUploadFileIsCaught) {
  {
    auto writer = store_->OpenWriter("shortened", {});
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->Write(0, "0123456789").ok());
  }
  // Resume sees what the file holds: the size is the offset.
  ASSERT_EQ(::truncate((store_->UploadDir("shortened") + "/data").c_str(), 4), 0);
  auto writer = store_->OpenWriter("shortened", {});
  ASSERT_TRUE(writer.ok());
  EXPECT_EQ((*writer)->offset(), 4);
  ASSERT_TRUE((*writer)->Write(4, "456789").ok());
  auto result = (*writer)->Commit();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->digest, Digest::Of("0123456789"));
}

}  // namespace
}  // namespace strata::layerstore
