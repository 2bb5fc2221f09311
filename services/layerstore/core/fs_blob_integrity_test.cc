// FsBlobStore and damaged blobs: a blob whose bytes changed on disk after it was committed
// (a flipped bit, a truncated file) is never served as whole, is replaced by the next upload
// of the same digest, and is found and quarantined by a scrub.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "lib/base/fs.h"
#include "lib/testing/temp_dir.h"
#include "services/layerstore/core/blob_verify.h"
#include "services/layerstore/core/fs_blob_store.h"
#include "services/layerstore/core/test_blobs.h"

namespace strata::layerstore {
namespace {

class FsBlobIntegrityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = FsBlobStore::Open(dir_.Join("root"));
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }

  absl::StatusOr<CommitResult> Upload(const std::string& ref, const std::string& data,
                                      const UploadExpectations& expected = {}) {
    auto writer = store_->OpenWriter(ref, expected);
    if (!writer.ok()) return writer.status();
    absl::Status written = (*writer)->Write(0, data);
    if (!written.ok()) return written;
    return (*writer)->Commit();
  }

  // Flips one bit of the stored blob, as a failing disk would.
  void FlipBit(const Digest& digest, int64_t offset) {
    const std::string path = store_->BlobPath(digest);
    ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
    ASSERT_TRUE(fd.valid());
    char byte;
    ASSERT_EQ(::pread(fd.get(), &byte, 1, offset), 1);
    byte ^= 0x10;
    ASSERT_EQ(::pwrite(fd.get(), &byte, 1, offset), 1);
    ASSERT_EQ(::chmod(path.c_str(), 0444), 0);
  }

  // Reads a range through the store; the status is the read's end.
  absl::StatusOr<std::string> ReadRange(const Digest& digest, int64_t offset, int64_t length) {
    auto reader = store_->OpenReader(digest, offset, length);
    if (!reader.ok()) return reader.status();
    std::string out;
    char buffer[64 * 1024];
    while ((*reader)->remaining() > 0) {
      absl::StatusOr<size_t> n = (*reader)->Read(buffer, sizeof(buffer));
      if (!n.ok()) return n.status();
      if (*n == 0) break;
      out.append(buffer, *n);
    }
    return out;
  }

  testing::TempDir dir_{"layerstore-integrity"};
  std::unique_ptr<FsBlobStore> store_;
};

TEST_F(FsBlobIntegrityTest, AWholeReadOfADamagedBlobEndsWithDataLoss) {
  const std::string data = RandomBytes(3 * 1024 * 1024 + 11, 7);
  const Digest digest = Digest::Of(data);
  ASSERT_TRUE(Upload("layer", data).ok());
  ASSERT_TRUE(ReadRange(digest, 0, 0).ok());
  FlipBit(digest, 2 * 1024 * 1024);

  absl::StatusOr<std::string> whole = ReadRange(digest, 0, 0);
  EXPECT_TRUE(absl::IsDataLoss(whole.status())) << whole.status();
  EXPECT_TRUE(absl::StrContains(whole.status().message(), digest.str())) << whole.status();
  // Offset 0 and the exact size is the whole blob too.
  EXPECT_TRUE(absl::IsDataLoss(ReadRange(digest, 0, data.size()).status()));
  // A range cannot be verified: it is served as stored.
  absl::StatusOr<std::string> range = ReadRange(digest, 1024, 4096);
  ASSERT_TRUE(range.ok()) << range.status();
  EXPECT_TRUE(*range == data.substr(1024, 4096));
}

TEST_F(FsBlobIntegrityTest, ATruncatedBlobEndsWithDataLoss) {
  const std::string data = RandomBytes(100000, 8);
  const Digest digest = Digest::Of(data);
  ASSERT_TRUE(Upload("layer", data).ok());
  ASSERT_EQ(::truncate(store_->BlobPath(digest).c_str(), 0), 0);
  EXPECT_TRUE(absl::IsDataLoss(ReadRange(digest, 0, 0).status()));
}

TEST_F(FsBlobIntegrityTest, UploadingTheSameBytesAgainRepairsADamagedBlob) {
  const std::string data = RandomBytes(200000, 9);
  const Digest digest = Digest::Of(data);
  ASSERT_TRUE(Upload("first", data).ok());
  FlipBit(digest, 100);

  // Without an expected digest (an import learns it at commit).
  absl::StatusOr<CommitResult> again = Upload("second", data);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE(again->already_existed);
  absl::StatusOr<std::string> read = ReadRange(digest, 0, 0);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_TRUE(*read == data);

  // With an expected digest (a pull, a commit that knows it): OpenWriter must not answer
  // "already exists" for a damaged copy.
  FlipBit(digest, 5000);
  absl::StatusOr<CommitResult> third = Upload("third", data, {.digest = digest});
  ASSERT_TRUE(third.ok()) << third.status();
  EXPECT_FALSE(third->already_existed);
  read = ReadRange(digest, 0, 0);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_TRUE(*read == data);

  // A sound copy is still deduplicated.
  EXPECT_TRUE(absl::IsAlreadyExists(store_->OpenWriter("fourth", {.digest = digest}).status()));
  absl::StatusOr<CommitResult> fifth = Upload("fifth", data);
  ASSERT_TRUE(fifth.ok()) << fifth.status();
  EXPECT_TRUE(fifth->already_existed);
}

TEST_F(FsBlobIntegrityTest, ScrubQuarantinesDamagedBlobsAndKeepsTheRest) {
  const std::string sound = RandomBytes(300000, 10);
  const std::string flipped = RandomBytes(300000, 11);
  const std::string truncated = RandomBytes(5000, 12);
  for (const std::string* data : {&sound, &flipped, &truncated}) {
    ASSERT_TRUE(Upload(std::to_string(data->size()) + data->substr(0, 4), *data).ok());
  }
  ASSERT_TRUE(Upload("empty", "").ok());
  FlipBit(Digest::Of(flipped), 299999);
  ASSERT_EQ(::truncate(store_->BlobPath(Digest::Of(truncated)).c_str(), 4000), 0);

  absl::StatusOr<ScrubReport> report = ScrubBlobs(*store_);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->blobs_checked, 4);
  ASSERT_EQ(report->damaged.size(), 2u);
  for (const DamagedBlob& damaged : report->damaged) {
    EXPECT_TRUE(damaged.digest == Digest::Of(flipped) || damaged.digest == Digest::Of(truncated))
        << damaged.digest.str();
    EXPECT_TRUE(absl::StrContains(damaged.reason, "damaged")) << damaged.reason;
    EXPECT_TRUE(damaged.quarantine_error.empty()) << damaged.quarantine_error;
    // Kept, under quarantine/, and no longer served.
    EXPECT_TRUE(absl::StartsWith(damaged.quarantined_to, dir_.Join("root/quarantine/")))
        << damaged.quarantined_to;
    EXPECT_TRUE(PathExists(damaged.quarantined_to));
    EXPECT_TRUE(absl::IsNotFound(store_->Stat(damaged.digest).status()));
    EXPECT_TRUE(absl::IsNotFound(store_->OpenReader(damaged.digest, 0, 0).status()));
  }
  EXPECT_TRUE(VerifyBlob(*store_, Digest::Of(sound)).ok());
  auto listed = store_->List(std::nullopt, 10);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->blobs.size(), 2u);

  // Nothing is left to find; an upload of a quarantined digest stores it again.
  report = ScrubBlobs(*store_);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->blobs_checked, 2);
  EXPECT_TRUE(report->damaged.empty());
  absl::StatusOr<CommitResult> again = Upload("again", flipped, {.digest = Digest::Of(flipped)});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE(again->already_existed);
  EXPECT_TRUE(VerifyBlob(*store_, Digest::Of(flipped)).ok());
}

}  // namespace
}  // namespace strata::layerstore
