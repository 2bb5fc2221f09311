// The BlobStore conformance suite: see blob_store_conformance.h.

#include "services/layerstore/core/blob_store_conformance.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <set>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "services/layerstore/core/test_blobs.h"

namespace strata::layerstore {
namespace {

using ::testing::HasSubstr;

constexpr size_t kMiB = 1 << 20;

// Writes data from `offset` in chunks of chunk_size.
absl::Status WriteFrom(IngestWriter& writer, const std::string& data, size_t offset,
                       size_t chunk_size = kMiB) {
  for (size_t at = offset; at < data.size(); at += chunk_size) {
    absl::Status status = writer.Write(static_cast<int64_t>(at), data.substr(at, chunk_size));
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::StatusOr<CommitResult> Upload(BlobStore& store, const std::string& ref,
                                    const std::string& data,
                                    const UploadExpectations& expected = {},
                                    size_t chunk_size = kMiB) {
  absl::StatusOr<std::unique_ptr<IngestWriter>> writer = store.OpenWriter(ref, expected);
  if (!writer.ok()) return writer.status();
  absl::Status written = WriteFrom(**writer, data, 0, chunk_size);
  if (!written.ok()) return written;
  return (*writer)->Commit();
}

absl::StatusOr<std::string> ReadRange(BlobStore& store, const Digest& digest, int64_t offset = 0,
                                      int64_t length = 0) {
  absl::StatusOr<std::unique_ptr<BlobRangeReader>> reader =
      store.OpenReader(digest, offset, length);
  if (!reader.ok()) return reader.status();
  std::string out;
  std::string buffer(300 * 1024, '\0');  // not a divisor of the blob sizes used below
  for (;;) {
    absl::StatusOr<size_t> n = (*reader)->Read(buffer.data(), buffer.size());
    if (!n.ok()) return n.status();
    if (*n == 0) return out;
    out.append(buffer.data(), *n);
  }
}

std::vector<Digest> ListAll(BlobStore& store, int page_size) {
  std::vector<Digest> all;
  std::optional<Digest> after;
  for (int pages = 0; pages < 10000; ++pages) {
    absl::StatusOr<BlobPage> page = store.List(after, page_size);
    EXPECT_TRUE(page.ok()) << page.status();
    if (!page.ok()) break;
    EXPECT_LE(static_cast<int>(page->blobs.size()), page_size);
    for (const BlobInfo& blob : page->blobs) all.push_back(blob.digest);
    if (!page->more) break;
    EXPECT_FALSE(page->blobs.empty());
    after = page->blobs.back().digest;
  }
  return all;
}

TEST_P(BlobStoreConformanceTest, RoundTripInChunks) {
  const std::string data = RandomBytes(3 * kMiB + 12345, 1);
  const absl::Time before = absl::Now() - absl::Seconds(2);
  absl::StatusOr<CommitResult> result = Upload(store(), "round-trip", data);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->digest, Digest::Of(data));
  EXPECT_EQ(result->size, static_cast<int64_t>(data.size()));
  EXPECT_FALSE(result->already_existed);
  EXPECT_GE(result->created, before);
  EXPECT_LE(result->created, absl::Now() + absl::Seconds(2));

  absl::StatusOr<BlobInfo> info = store().Stat(Digest::Of(data));
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->digest, Digest::Of(data));
  EXPECT_EQ(info->size, static_cast<int64_t>(data.size()));
  EXPECT_LE(absl::AbsDuration(info->created - result->created), absl::Seconds(1));

  absl::StatusOr<std::string> read = ReadRange(store(), Digest::Of(data));
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_TRUE(*read == data) << "read back " << read->size() << " bytes that differ";
}

TEST_P(BlobStoreConformanceTest, OddChunkSizesMakeTheSameBlob) {
  const std::string data = RandomBytes(kMiB + 7, 2);
  absl::StatusOr<CommitResult> result = Upload(store(), "odd", data, {}, 4093);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->digest, Digest::Of(data));
}

TEST_P(BlobStoreConformanceTest, EmptyBlob) {
  absl::StatusOr<CommitResult> result =
      Upload(store(), "empty", "", {.digest = Digest::Of(""), .size = 0});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->digest, Digest::Of(""));
  EXPECT_EQ(result->size, 0);
  absl::StatusOr<std::string> read = ReadRange(store(), Digest::Of(""));
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, "");
}

TEST_P(BlobStoreConformanceTest, MissingBlobIsNotFoundNamingTheDigest) {
  const Digest missing = Digest::Of("never stored");
  absl::StatusOr<BlobInfo> info = store().Stat(missing);
  EXPECT_TRUE(absl::IsNotFound(info.status())) << info.status();
  EXPECT_THAT(std::string(info.status().message()), HasSubstr(missing.str()));
  auto reader = store().OpenReader(missing, 0, 0);
  EXPECT_TRUE(absl::IsNotFound(reader.status())) << reader.status();
  EXPECT_THAT(std::string(reader.status().message()), HasSubstr(missing.str()));
  absl::Status deleted = store().Delete(missing);
  EXPECT_TRUE(absl::IsNotFound(deleted)) << deleted;
  EXPECT_THAT(std::string(deleted.message()), HasSubstr(missing.str()));
}

TEST_P(BlobStoreConformanceTest, RangedReads) {
  const std::string data = RandomBytes(2 * kMiB + 100, 3);
  const Digest digest = Digest::Of(data);
  ASSERT_TRUE(Upload(store(), "ranged", data).ok());
  struct Case {
    int64_t offset;
    int64_t length;
    std::string want;
  };
  const int64_t size = static_cast<int64_t>(data.size());
  const std::vector<Case> cases = {
      {0, 0, data},
      {0, 10, data.substr(0, 10)},
      {kMiB - 3, 7, data.substr(kMiB - 3, 7)},
      {kMiB + 5, 0, data.substr(kMiB + 5)},
      {size - 1, 0, data.substr(size - 1)},
      {size - 10, 1000, data.substr(size - 10)},  // a range past the end stops at the end
      {size, 0, ""},
      {size, 5, ""},
      {100, kMiB + 1, data.substr(100, kMiB + 1)},
  };
  for (const Case& c : cases) {
    absl::StatusOr<std::string> read = ReadRange(store(), digest, c.offset, c.length);
    ASSERT_TRUE(read.ok()) << c.offset << "+" << c.length << ": " << read.status();
    EXPECT_TRUE(*read == c.want) << c.offset << "+" << c.length << ": got " << read->size()
                                 << " bytes, want " << c.want.size();
  }
  auto reader = store().OpenReader(digest, 10, 20);
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ((*reader)->position(), 10);
  EXPECT_EQ((*reader)->remaining(), 20);
  EXPECT_EQ((*reader)->info().size, size);

  for (auto [offset, length] : std::vector<std::pair<int64_t, int64_t>>{
           {size + 1, 0}, {-1, 0}, {0, -1}, {int64_t{1} << 62, 1}}) {
    auto bad = store().OpenReader(digest, offset, length);
    EXPECT_TRUE(absl::IsInvalidArgument(bad.status()))
        << offset << "+" << length << ": " << bad.status();
  }
}

TEST_P(BlobStoreConformanceTest, DigestMismatchIsInvalidArgumentAndKeepsNothing) {
  const std::string data = RandomBytes(kMiB + 1, 4);
  const Digest wrong = Digest::Of("something else");
  absl::StatusOr<CommitResult> result = Upload(store(), "mismatch", data, {.digest = wrong});
  EXPECT_TRUE(absl::IsInvalidArgument(result.status())) << result.status();
  EXPECT_THAT(std::string(result.status().message()), HasSubstr(wrong.str()));
  EXPECT_THAT(std::string(result.status().message()), HasSubstr(Digest::Of(data).str()));
  EXPECT_TRUE(absl::IsNotFound(store().GetUploadStatus("mismatch").status()));
  EXPECT_TRUE(absl::IsNotFound(store().Stat(Digest::Of(data)).status()));
  EXPECT_TRUE(absl::IsNotFound(store().Stat(wrong).status()));
  EXPECT_TRUE(ListAll(store(), 10).empty());
}

TEST_P(BlobStoreConformanceTest, SizeMismatchIsInvalidArgumentAndKeepsNothing) {
  const std::string data = RandomBytes(5000, 5);
  absl::StatusOr<CommitResult> result = Upload(store(), "short", data, {.size = 6000});
  EXPECT_TRUE(absl::IsInvalidArgument(result.status())) << result.status();
  EXPECT_THAT(std::string(result.status().message()), HasSubstr("6000"));
  EXPECT_THAT(std::string(result.status().message()), HasSubstr("5000"));
  EXPECT_TRUE(absl::IsNotFound(store().GetUploadStatus("short").status()));
  EXPECT_TRUE(absl::IsNotFound(store().Stat(Digest::Of(data)).status()));
}

TEST_P(BlobStoreConformanceTest, ChunkPastTheExpectedSizeIsRefused) {
  auto writer = store().OpenWriter("long", {.size = 10});
  ASSERT_TRUE(writer.ok()) << writer.status();
  ASSERT_TRUE((*writer)->Write(0, "12345").ok());
  absl::Status status = (*writer)->Write(5, "678901");
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr("10"));
  ASSERT_TRUE((*writer)->Write(5, "67890").ok());
  auto result = (*writer)->Commit();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->digest, Digest::Of("1234567890"));
}

TEST_P(BlobStoreConformanceTest, ChunkAtTheWrongOffsetNamesTheExpectedOffset) {
  auto writer = store().OpenWriter("offsets", {});
  ASSERT_TRUE(writer.ok()) << writer.status();
  ASSERT_TRUE((*writer)->Write(0, std::string(100, 'a')).ok());
  for (int64_t wrong : {0, 50, 101, -1}) {
    absl::Status status = (*writer)->Write(wrong, "b");
    EXPECT_TRUE(absl::IsInvalidArgument(status)) << wrong << ": " << status;
    EXPECT_THAT(std::string(status.message()), HasSubstr("expected offset 100")) << status;
  }
  EXPECT_EQ((*writer)->offset(), 100);
  ASSERT_TRUE((*writer)->Write(100, "b").ok());
  auto result = (*writer)->Commit();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->digest, Digest::Of(std::string(100, 'a') + "b"));
}

TEST_P(BlobStoreConformanceTest, FinishedWriterRefusesMore) {
  auto writer = store().OpenWriter("finished", {});
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Write(0, "x").ok());
  ASSERT_TRUE((*writer)->Commit().ok());
  EXPECT_TRUE(absl::IsFailedPrecondition((*writer)->Write(1, "y")));
  EXPECT_TRUE(absl::IsFailedPrecondition((*writer)->Commit().status()));
  // The ref is free again and starts a new upload.
  writer->reset();
  auto again = store().OpenWriter("finished", {});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ((*again)->offset(), 0);
}

TEST_P(BlobStoreConformanceTest, StoredBlobIsNotWrittenAgain) {
  const std::string data = RandomBytes(kMiB / 2, 6);
  auto first = Upload(store(), "first", data);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_FALSE(first->already_existed);
  auto second = Upload(store(), "second", data);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_TRUE(second->already_existed);
  EXPECT_EQ(second->digest, first->digest);
  EXPECT_EQ(second->size, first->size);
  EXPECT_EQ(second->created, first->created);
  EXPECT_TRUE(absl::IsNotFound(store().GetUploadStatus("second").status()));
  EXPECT_EQ(ListAll(store(), 10), std::vector<Digest>{Digest::Of(data)});
}

TEST_P(BlobStoreConformanceTest, OpeningAnUploadOfAStoredDigestIsAlreadyExists) {
  const std::string data = RandomBytes(3000, 7);
  const Digest digest = Digest::Of(data);
  // An upload of those bytes was left half done under "left".
  {
    auto writer = store().OpenWriter("left", {.digest = digest});
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->Write(0, data.substr(0, 1000)).ok());
  }
  ASSERT_TRUE(Upload(store(), "done", data).ok());

  auto writer = store().OpenWriter("left", {.digest = digest});
  EXPECT_TRUE(absl::IsAlreadyExists(writer.status())) << writer.status();
  EXPECT_THAT(std::string(writer.status().message()), HasSubstr(digest.str()));
  EXPECT_TRUE(absl::IsNotFound(store().GetUploadStatus("left").status()));

  auto wrong_size = store().OpenWriter("other", {.digest = digest, .size = 1});
  EXPECT_TRUE(absl::IsInvalidArgument(wrong_size.status())) << wrong_size.status();
}

TEST_P(BlobStoreConformanceTest, SameRefTwiceAtOnceIsAborted) {
  auto first = store().OpenWriter("busy", {});
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE((*first)->Write(0, "abc").ok());

  auto second = store().OpenWriter("busy", {});
  EXPECT_TRUE(absl::IsAborted(second.status())) << second.status();
  absl::Status aborted = store().AbortUpload("busy");
  EXPECT_TRUE(absl::IsAborted(aborted)) << aborted;
  std::unique_ptr<BlobStore> replica = harness_->OpenReplica();
  auto from_replica = replica->OpenWriter("busy", {});
  EXPECT_TRUE(absl::IsAborted(from_replica.status())) << from_replica.status();
  EXPECT_TRUE(absl::IsAborted(replica->AbortUpload("busy")));

  // The first writer was not disturbed.
  ASSERT_TRUE((*first)->Write(3, "def").ok());
  first->reset();
  auto resumed = replica->OpenWriter("busy", {});
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_EQ((*resumed)->offset(), 6);
  auto result = (*resumed)->Commit();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->digest, Digest::Of("abcdef"));
}

TEST_P(BlobStoreConformanceTest, SameRefFromManyThreadsHasOneWriterAtATime) {
  constexpr int kThreads = 8;
  std::atomic<int> opened{0};
  std::atomic<int> aborted{0};
  std::atomic<int> other{0};
  std::vector<std::unique_ptr<IngestWriter>> writers(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      auto writer = store().OpenWriter("contended", {});
      if (writer.ok()) {
        ++opened;
        writers[i] = std::move(*writer);
      } else if (absl::IsAborted(writer.status())) {
        ++aborted;
      } else {
        ++other;
        ADD_FAILURE() << writer.status();
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(opened.load(), 1);
  EXPECT_EQ(aborted.load(), kThreads - 1);
  EXPECT_EQ(other.load(), 0);
}

TEST_P(BlobStoreConformanceTest, SameDigestUnderTwoRefsAtOnceIsStoredOnce) {
  const std::string data = RandomBytes(2 * kMiB + 3, 8);
  auto a = store().OpenWriter("ref-a", {});
  auto b = store().OpenWriter("ref-b", {.digest = Digest::Of(data)});
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  for (size_t at = 0; at < data.size(); at += kMiB) {
    ASSERT_TRUE((*a)->Write(at, data.substr(at, kMiB)).ok());
    ASSERT_TRUE((*b)->Write(at, data.substr(at, kMiB)).ok());
  }
  auto result_b = (*b)->Commit();
  auto result_a = (*a)->Commit();
  ASSERT_TRUE(result_a.ok()) << result_a.status();
  ASSERT_TRUE(result_b.ok()) << result_b.status();
  EXPECT_FALSE(result_b->already_existed);
  EXPECT_TRUE(result_a->already_existed);
  EXPECT_EQ(result_a->digest, Digest::Of(data));
  EXPECT_EQ(ListAll(store(), 10), std::vector<Digest>{Digest::Of(data)});
  auto read = ReadRange(store(), Digest::Of(data));
  ASSERT_TRUE(read.ok());
  EXPECT_TRUE(*read == data);
}

TEST_P(BlobStoreConformanceTest, SameDigestFromManyThreadsIsStoredOnce) {
  constexpr int kThreads = 6;
  const std::string data = RandomBytes(kMiB + 11, 9);
  std::vector<absl::StatusOr<CommitResult>> results(kThreads, absl::UnknownError("not run"));
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      results[i] = Upload(store(), absl::StrCat("parallel-", i), data, {}, 64 * 1024);
    });
  }
  for (std::thread& thread : threads) thread.join();
  int fresh = 0;
  for (const auto& result : results) {
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->digest, Digest::Of(data));
    if (!result->already_existed) ++fresh;
  }
  EXPECT_EQ(fresh, 1);
  EXPECT_EQ(ListAll(store(), 10), std::vector<Digest>{Digest::Of(data)});
}

// Leaves an upload of data cut after `cut` bytes under ref.
void UploadPart(BlobStore& store, const std::string& ref, const std::string& data, size_t cut,
                const UploadExpectations& expected) {
  auto writer = store.OpenWriter(ref, expected);
  ASSERT_TRUE(writer.ok()) << writer.status();
  ASSERT_TRUE(WriteFrom(**writer, data.substr(0, cut), 0).ok());
}

void ResumeAndCommit(BlobStore& store, const std::string& ref, const std::string& data,
                     size_t cut) {
  absl::StatusOr<UploadStatus> status = store.GetUploadStatus(ref);
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(status->offset, static_cast<int64_t>(cut));
  auto writer = store.OpenWriter(ref, {});
  ASSERT_TRUE(writer.ok()) << writer.status();
  ASSERT_EQ((*writer)->offset(), static_cast<int64_t>(cut));
  ASSERT_TRUE(WriteFrom(**writer, data, cut).ok());
  auto result = (*writer)->Commit();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->digest, Digest::Of(data));
  EXPECT_EQ(result->size, static_cast<int64_t>(data.size()));
  auto read = ReadRange(store, Digest::Of(data));
  ASSERT_TRUE(read.ok());
  EXPECT_TRUE(*read == data);
}

TEST_P(BlobStoreConformanceTest, ResumeAfterTheWriterWentAway) {
  const std::string data = RandomBytes(3 * kMiB + 5, 10);
  const size_t cut = kMiB + kMiB / 2;
  UploadPart(store(), "resume", data, cut, {.digest = Digest::Of(data)});
  ResumeAndCommit(store(), "resume", data, cut);
  EXPECT_TRUE(absl::IsNotFound(store().GetUploadStatus("resume").status()));
}

TEST_P(BlobStoreConformanceTest, ResumeAfterRestart) {
  const std::string data = RandomBytes(2 * kMiB + 5, 11);
  const size_t cut = kMiB + 1;
  UploadPart(store(), "restart", data, cut, {.digest = Digest::Of(data), .size = 2 * kMiB + 5});
  harness_->Restart();
  ResumeAndCommit(store(), "restart", data, cut);
}

TEST_P(BlobStoreConformanceTest, ResumeOnAnotherReplica) {
  const std::string data = RandomBytes(kMiB + 5, 12);
  UploadPart(store(), "replica", data, 1000, {});
  std::unique_ptr<BlobStore> replica = harness_->OpenReplica();
  ResumeAndCommit(*replica, "replica", data, 1000);
  EXPECT_TRUE(store().Stat(Digest::Of(data)).ok());
}

TEST_P(BlobStoreConformanceTest, ResumeKeepsTheFirstExpectations) {
  const std::string data = RandomBytes(4000, 13);
  UploadPart(store(), "keeps", data, 1000, {.digest = Digest::Of(data), .size = 4000});
  auto writer = store().OpenWriter("keeps", {});
  ASSERT_TRUE(writer.ok()) << writer.status();
  EXPECT_EQ((*writer)->expected().digest, Digest::Of(data));
  EXPECT_EQ((*writer)->expected().size, 4000);
  // Different bytes after the cut fail the digest check.
  ASSERT_TRUE((*writer)->Write(1000, std::string(3000, 'z')).ok());
  auto result = (*writer)->Commit();
  EXPECT_TRUE(absl::IsInvalidArgument(result.status())) << result.status();
  EXPECT_TRUE(absl::IsNotFound(store().GetUploadStatus("keeps").status()));
}

TEST_P(BlobStoreConformanceTest, ResumeWithOtherExpectationsIsFailedPrecondition) {
  const std::string data = RandomBytes(4000, 14);
  UploadPart(store(), "expects", data, 1000, {.digest = Digest::Of(data), .size = 4000});
  auto other_digest = store().OpenWriter("expects", {.digest = Digest::Of("other")});
  EXPECT_TRUE(absl::IsFailedPrecondition(other_digest.status())) << other_digest.status();
  auto other_size = store().OpenWriter("expects", {.size = 3999});
  EXPECT_TRUE(absl::IsFailedPrecondition(other_size.status())) << other_size.status();
  auto same = store().OpenWriter("expects", {.digest = Digest::Of(data), .size = 4000});
  EXPECT_TRUE(same.ok()) << same.status();
}

TEST_P(BlobStoreConformanceTest, ResumeMayAddExpectations) {
  const std::string data = RandomBytes(4000, 17);
  UploadPart(store(), "expects-nothing", data, 10, {});
  {
    auto writer = store().OpenWriter("expects-nothing", {.size = 4000});
    ASSERT_TRUE(writer.ok()) << writer.status();
    EXPECT_EQ((*writer)->expected().size, 4000);
  }
  // Remembered from then on, and added to.
  auto status = store().GetUploadStatus("expects-nothing");
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->expected.size, 4000);
  EXPECT_TRUE(
      absl::IsFailedPrecondition(store().OpenWriter("expects-nothing", {.size = 3}).status()));
  auto writer = store().OpenWriter("expects-nothing", {.digest = Digest::Of("other bytes")});
  ASSERT_TRUE(writer.ok()) << writer.status();
  EXPECT_EQ((*writer)->expected().size, 4000);
  ASSERT_TRUE(WriteFrom(**writer, data, 10).ok());
  auto result = (*writer)->Commit();
  EXPECT_TRUE(absl::IsInvalidArgument(result.status())) << result.status();
  EXPECT_THAT(std::string(result.status().message()), HasSubstr(Digest::Of(data).str()));

  UploadPart(store(), "too-long", data, 100, {});
  EXPECT_TRUE(absl::IsInvalidArgument(store().OpenWriter("too-long", {.size = 50}).status()));
}

TEST_P(BlobStoreConformanceTest, UploadStatusReportsProgress) {
  const absl::Time before = absl::Now() - absl::Seconds(2);
  auto writer = store().OpenWriter("progress", {.digest = Digest::Of("x"), .size = 1});
  ASSERT_TRUE(writer.ok());
  auto status = store().GetUploadStatus("progress");
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(status->ref, "progress");
  EXPECT_EQ(status->offset, 0);
  EXPECT_EQ(status->expected.digest, Digest::Of("x"));
  EXPECT_EQ(status->expected.size, 1);
  EXPECT_GE(status->started, before);
  EXPECT_GE(status->updated, before);
  EXPECT_LE(status->started, absl::Now() + absl::Seconds(2));

  auto plain = store().OpenWriter("progress-2", {});
  ASSERT_TRUE(plain.ok());
  ASSERT_TRUE((*plain)->Write(0, std::string(12345, 'q')).ok());
  // A writer may store what it received a moment later; the status shows what is stored.
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  do {
    status = store().GetUploadStatus("progress-2");
    ASSERT_TRUE(status.ok()) << status.status();
    ASSERT_LE(status->offset, 12345);
  } while (status->offset < 12345 && absl::Now() < deadline);
  EXPECT_EQ(status->offset, 12345);
  EXPECT_FALSE(status->expected.digest.has_value());
  EXPECT_FALSE(status->expected.size.has_value());
}

TEST_P(BlobStoreConformanceTest, BadRefsAreInvalidArgument) {
  for (const std::string& ref : {std::string(), std::string(kMaxRefLength + 1, 'r')}) {
    EXPECT_TRUE(absl::IsInvalidArgument(store().OpenWriter(ref, {}).status()));
    EXPECT_TRUE(absl::IsInvalidArgument(store().GetUploadStatus(ref).status()));
    EXPECT_TRUE(absl::IsInvalidArgument(store().AbortUpload(ref)));
  }
  EXPECT_TRUE(absl::IsInvalidArgument(store().OpenWriter("negative", {.size = -1}).status()));
}

TEST_P(BlobStoreConformanceTest, RefsAreOpaqueKeys) {
  const std::vector<std::string> refs = {
      "../../../etc/passwd",
      "/absolute",
      "a/b/c",
      ".",
      "..",
      std::string("nul\0byte", 8),
      "sha256:0000000000000000000000000000000000000000000000000000000000000000",
      "\xc3\xa9t\xc3\xa9",
      std::string(kMaxRefLength, 'x'),
      "ref",
      "REF"};
  for (size_t i = 0; i < refs.size(); ++i) {
    UploadPart(store(), refs[i], RandomBytes(100, 100 + i), 10 + i, {});
  }
  for (size_t i = 0; i < refs.size(); ++i) {
    auto status = store().GetUploadStatus(refs[i]);
    ASSERT_TRUE(status.ok()) << i << ": " << status.status();
    EXPECT_EQ(status->ref, refs[i]);
    EXPECT_EQ(status->offset, static_cast<int64_t>(10 + i)) << "ref " << i;
  }
  for (const std::string& ref : refs) EXPECT_TRUE(store().AbortUpload(ref).ok());
}

TEST_P(BlobStoreConformanceTest, AbortUploadDiscardsIt) {
  UploadPart(store(), "abort-me", "0123456789", 5, {});
  EXPECT_TRUE(store().AbortUpload("abort-me").ok());
  EXPECT_TRUE(absl::IsNotFound(store().GetUploadStatus("abort-me").status()));
  absl::Status again = store().AbortUpload("abort-me");
  EXPECT_TRUE(absl::IsNotFound(again)) << again;
  auto writer = store().OpenWriter("abort-me", {});
  ASSERT_TRUE(writer.ok());
  EXPECT_EQ((*writer)->offset(), 0);
}

TEST_P(BlobStoreConformanceTest, DeleteRemovesTheBlob) {
  const std::string data = RandomBytes(1000, 15);
  ASSERT_TRUE(Upload(store(), "delete", data).ok());
  ASSERT_TRUE(store().Delete(Digest::Of(data)).ok());
  EXPECT_TRUE(absl::IsNotFound(store().Stat(Digest::Of(data)).status()));
  EXPECT_TRUE(absl::IsNotFound(store().Delete(Digest::Of(data))));
  EXPECT_TRUE(ListAll(store(), 10).empty());
  // It can be stored again.
  auto again = Upload(store(), "delete", data);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE(again->already_existed);
}

TEST_P(BlobStoreConformanceTest, DeleteWhileReadingReadsToTheEnd) {
  const std::string data = RandomBytes(3 * kMiB, 16);
  ASSERT_TRUE(Upload(store(), "read-delete", data).ok());
  auto reader = store().OpenReader(Digest::Of(data), 0, 0);
  ASSERT_TRUE(reader.ok());
  std::string read(kMiB, '\0');
  auto n = (*reader)->Read(read.data(), read.size());
  ASSERT_TRUE(n.ok());
  read.resize(*n);
  ASSERT_TRUE(store().Delete(Digest::Of(data)).ok());
  EXPECT_TRUE(absl::IsNotFound(store().Stat(Digest::Of(data)).status()));
  std::string buffer(kMiB, '\0');
  for (;;) {
    auto more = (*reader)->Read(buffer.data(), buffer.size());
    ASSERT_TRUE(more.ok()) << more.status();
    if (*more == 0) break;
    read.append(buffer.data(), *more);
  }
  EXPECT_TRUE(read == data);
}

TEST_P(BlobStoreConformanceTest, ListPagesInDigestOrder) {
  std::vector<Digest> stored;
  std::map<Digest, int64_t> sizes;
  for (int i = 0; i < 23; ++i) {
    const std::string data = absl::StrCat("blob ", i);
    ASSERT_TRUE(Upload(store(), absl::StrCat("list-", i), data).ok());
    stored.push_back(Digest::Of(data));
    sizes[Digest::Of(data)] = static_cast<int64_t>(data.size());
  }
  std::sort(stored.begin(), stored.end());
  EXPECT_EQ(ListAll(store(), 5), stored);
  EXPECT_EQ(ListAll(store(), 1), stored);
  EXPECT_EQ(ListAll(store(), 23), stored);
  EXPECT_EQ(ListAll(store(), 1000), stored);

  auto page = store().List(std::nullopt, 23);
  ASSERT_TRUE(page.ok());
  EXPECT_FALSE(page->more);
  ASSERT_EQ(page->blobs.size(), 23u);
  for (const BlobInfo& blob : page->blobs) EXPECT_EQ(blob.size, sizes[blob.digest]);

  // Starting after a digest that is not stored starts at the next one that is.
  auto from_middle = store().List(Digest::Of("not stored"), 1000);
  ASSERT_TRUE(from_middle.ok());
  for (const BlobInfo& blob : from_middle->blobs) EXPECT_LT(Digest::Of("not stored"), blob.digest);
  EXPECT_EQ(from_middle->blobs.size(),
            static_cast<size_t>(std::count_if(stored.begin(), stored.end(), [](const Digest& d) {
              return Digest::Of("not stored") < d;
            })));

  EXPECT_TRUE(absl::IsInvalidArgument(store().List(std::nullopt, 0).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(store().List(std::nullopt, -1).status()));
}

TEST_P(BlobStoreConformanceTest, ListingIsStableWhileBlobsComeAndGo) {
  std::vector<Digest> stayed;
  std::vector<Digest> deleted;
  for (int i = 0; i < 30; ++i) {
    const std::string data = absl::StrCat("stable ", i);
    ASSERT_TRUE(Upload(store(), absl::StrCat("stable-", i), data).ok());
    (i % 3 == 0 ? deleted : stayed).push_back(Digest::Of(data));
  }
  std::vector<Digest> seen;
  std::optional<Digest> after;
  int added = 0;
  for (;;) {
    auto page = store().List(after, 4);
    ASSERT_TRUE(page.ok());
    for (const BlobInfo& blob : page->blobs) seen.push_back(blob.digest);
    // Between pages, blobs come and go.
    if (added < 5) {
      ASSERT_TRUE(Upload(store(), "added", absl::StrCat("added ", added++)).ok());
    }
    if (!deleted.empty()) {
      ASSERT_TRUE(store().Delete(deleted.back()).ok());
      deleted.pop_back();
    }
    if (!page->more) break;
    after = page->blobs.back().digest;
  }
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  EXPECT_EQ(std::set<Digest>(seen.begin(), seen.end()).size(), seen.size()) << "a duplicate";
  for (const Digest& digest : stayed) {
    EXPECT_EQ(std::count(seen.begin(), seen.end(), digest), 1) << digest.str();
  }
}

TEST_P(BlobStoreConformanceTest, CleanUpRemovesOnlyAbandonedUploads) {
  UploadPart(store(), "abandoned", "0123456789", 5, {});
  auto held = store().OpenWriter("held", {});
  ASSERT_TRUE(held.ok());
  ASSERT_TRUE((*held)->Write(0, "abc").ok());

  auto none = store().CleanUpAbandonedUploads(absl::Hours(1));
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ(*none, 0);
  EXPECT_TRUE(store().GetUploadStatus("abandoned").ok());

  absl::SleepFor(absl::Milliseconds(50));
  auto removed = store().CleanUpAbandonedUploads(absl::Milliseconds(10));
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_EQ(*removed, 1);
  EXPECT_TRUE(absl::IsNotFound(store().GetUploadStatus("abandoned").status()));
  EXPECT_TRUE(store().GetUploadStatus("held").ok());
  ASSERT_TRUE((*held)->Write(3, "def").ok());
  EXPECT_TRUE((*held)->Commit().ok());
}

}  // namespace
}  // namespace strata::layerstore
