// CollectGarbage over a real FsBlobStore and FsLeaseStore: what is kept, what goes, and the
// writers that race the collector between its mark and its sweep.

#include "services/layerstore/core/blob_gc.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "lib/base/fs.h"
#include "lib/testing/temp_dir.h"
#include "services/layerstore/core/fs_blob_store.h"
#include "services/layerstore/core/fs_lease_store.h"
#include "services/layerstore/core/test_blobs.h"

namespace strata::layerstore {
namespace {

class BlobGcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = FsBlobStore::Open(dir_.path());
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    auto leases = FsLeaseStore::Open(dir_.path());
    ASSERT_TRUE(leases.ok()) << leases.status();
    leases_ = std::move(*leases);
  }

  Digest Put(uint64_t seed, size_t size = 1000) {
    const std::string data = RandomBytes(size, seed);
    auto writer = store_->OpenWriter(absl::StrCat("put-", seed), {});
    EXPECT_TRUE(writer.ok()) << writer.status();
    EXPECT_TRUE((*writer)->Write(0, data).ok());
    auto result = (*writer)->Commit();
    EXPECT_TRUE(result.ok()) << result.status();
    return result->digest;
  }

  bool Stored(const Digest& digest) { return store_->Stat(digest).ok(); }

  testing::TempDir dir_;
  std::unique_ptr<FsBlobStore> store_;
  std::unique_ptr<FsLeaseStore> leases_;
};

TEST_F(BlobGcTest, KeepsReferencedAndLeasedRemovesTheRest) {
  const Digest referenced = Put(1);
  const Digest leased = Put(2);
  const Digest garbage = Put(3, 1234);
  const Digest expired_lease = Put(4);
  auto lease = leases_->Create(absl::Minutes(1));
  auto short_lease = leases_->Create(absl::Milliseconds(1));
  ASSERT_TRUE(lease.ok() && short_lease.ok());
  ASSERT_TRUE(leases_->AddBlob(lease->id, leased).ok());
  (void)leases_->AddBlob(short_lease->id, expired_lease);
  absl::SleepFor(absl::Milliseconds(20));

  auto report = CollectGarbage(
      *store_, *leases_,
      [&]() -> absl::StatusOr<absl::flat_hash_set<std::string>> {
        return absl::flat_hash_set<std::string>{referenced.str()};
      },
      GcOptions{.min_age = absl::ZeroDuration()});
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->blobs_scanned, 4);
  EXPECT_EQ(report->kept_referenced, 1);
  EXPECT_EQ(report->kept_leased, 1);
  ASSERT_EQ(report->removed.size(), 2u);
  EXPECT_EQ(report->bytes_removed, 1234 + 1000);
  EXPECT_EQ(report->leases_expired, 1);
  EXPECT_TRUE(Stored(referenced));
  EXPECT_TRUE(Stored(leased));
  EXPECT_FALSE(Stored(garbage));
  EXPECT_FALSE(Stored(expired_lease));
}

TEST_F(BlobGcTest, DryRunRemovesNothing) {
  const Digest garbage = Put(5);
  absl::SleepFor(absl::Milliseconds(5));
  auto report = CollectGarbage(
      *store_, *leases_,
      []() -> absl::StatusOr<absl::flat_hash_set<std::string>> {
        return absl::flat_hash_set<std::string>{};
      },
      GcOptions{.dry_run = true, .min_age = absl::ZeroDuration()});
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_EQ(report->removed.size(), 1u);
  EXPECT_EQ(report->removed[0].digest, garbage);
  EXPECT_TRUE(Stored(garbage));
}

// The race the ordering is for: between the mark and the sweep, one writer deduplicates
// against an unreferenced blob (the layerstore touches it) and another commits a new one. Both
// survive; the blob nobody used goes.
TEST_F(BlobGcTest, WritersBetweenMarkAndSweepKeepTheirBlobs) {
  const Digest reused = Put(6);
  const Digest unused = Put(7);
  absl::SleepFor(absl::Milliseconds(5));
  Digest fresh;
  auto report = CollectGarbage(
      *store_, *leases_,
      [&]() -> absl::StatusOr<absl::flat_hash_set<std::string>> {
        EXPECT_TRUE(store_->Touch(reused).ok());
        fresh = Put(8);
        return absl::flat_hash_set<std::string>{};
      },
      GcOptions{.min_age = absl::ZeroDuration()});
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(Stored(reused));
  EXPECT_TRUE(Stored(fresh));
  EXPECT_FALSE(Stored(unused));
  EXPECT_EQ(report->removed.size(), 1u);
  EXPECT_EQ(report->kept_recent, 1);  // reused: listed, then touched
}

// imagegraph unreachable: nothing is deleted.
TEST_F(BlobGcTest, NoReferencesNoSweep) {
  const Digest blob = Put(9);
  auto report = CollectGarbage(
      *store_, *leases_,
      []() -> absl::StatusOr<absl::flat_hash_set<std::string>> {
        return absl::UnavailableError("imagegraph down");
      },
      GcOptions{.min_age = absl::ZeroDuration()});
  EXPECT_TRUE(absl::IsUnavailable(report.status()));
  EXPECT_TRUE(Stored(blob));
}

TEST_F(BlobGcTest, TouchAndConditionalDelete) {
  const Digest blob = Put(10);
  const absl::Time before = absl::Now();
  EXPECT_TRUE(store_->Touch(blob).ok());
  auto deleted = store_->DeleteIfUnusedSince(blob, before);
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_FALSE(*deleted);
  EXPECT_TRUE(Stored(blob));
  deleted = store_->DeleteIfUnusedSince(blob, absl::Now() + absl::Seconds(1));
  ASSERT_TRUE(deleted.ok());
  EXPECT_TRUE(*deleted);
  EXPECT_FALSE(Stored(blob));
  EXPECT_TRUE(absl::IsNotFound(store_->Touch(blob)));
  EXPECT_TRUE(absl::IsNotFound(store_->DeleteIfUnusedSince(blob, absl::Now()).status()));
}

}  // namespace
}  // namespace strata::layerstore
