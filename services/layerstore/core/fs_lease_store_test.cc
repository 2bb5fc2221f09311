// FsLeaseStore: leases in the store directory, seen alike by every process that opens it.

#include "services/layerstore/core/fs_lease_store.h"

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/base/fs.h"
#include "lib/testing/temp_dir.h"

namespace strata::layerstore {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

Digest D(const std::string& data) { return Digest::Of(data); }

class FsLeaseStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = FsLeaseStore::Open(dir_.path());
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }
  testing::TempDir dir_;
  std::unique_ptr<FsLeaseStore> store_;
};

TEST_F(FsLeaseStoreTest, CreateAddGetDelete) {
  auto lease = store_->Create(absl::Minutes(1));
  ASSERT_TRUE(lease.ok()) << lease.status();
  EXPECT_TRUE(ValidateLeaseId(lease->id).ok());
  EXPECT_GT(lease->expires, absl::Now() + absl::Seconds(50));
  ASSERT_TRUE(store_->AddBlob(lease->id, D("a")).ok());
  ASSERT_TRUE(store_->AddBlob(lease->id, D("a")).ok());  // twice is once
  ASSERT_TRUE(store_->AddUpload(lease->id, "pull-\x01/../x").ok());
  auto got = store_->Get(lease->id);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_THAT(got->blobs, ElementsAre(D("a")));
  EXPECT_THAT(got->uploads, ElementsAre("pull-\x01/../x"));

  ASSERT_TRUE(store_->Delete(lease->id).ok());
  EXPECT_TRUE(absl::IsNotFound(store_->Get(lease->id).status()));
  EXPECT_TRUE(absl::IsNotFound(store_->Delete(lease->id)));
  EXPECT_TRUE(absl::IsNotFound(store_->AddBlob(lease->id, D("b"))));
  EXPECT_TRUE(absl::IsNotFound(store_->Renew(lease->id, absl::Minutes(1)).status()));
  EXPECT_FALSE(PathExists(dir_.Join("leases/" + lease->id)));
}

TEST_F(FsLeaseStoreTest, ArgumentsAreChecked) {
  EXPECT_TRUE(absl::IsInvalidArgument(store_->Create(absl::ZeroDuration()).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(store_->Get("../etc").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(store_->Delete("ABCDEF0123456789ABCDEF0123456789")));
  EXPECT_TRUE(absl::IsNotFound(store_->Get(std::string(32, 'a')).status()));
  auto lease = store_->Create(absl::Minutes(1));
  ASSERT_TRUE(lease.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(store_->Renew(lease->id, absl::Seconds(-1)).status()));
}

TEST_F(FsLeaseStoreTest, ExpiresAndRenews) {
  auto short_lease = store_->Create(absl::Milliseconds(300));
  auto renewed = store_->Create(absl::Milliseconds(300));
  ASSERT_TRUE(short_lease.ok() && renewed.ok());
  ASSERT_TRUE(store_->AddBlob(short_lease->id, D("short")).ok());
  ASSERT_TRUE(store_->AddBlob(renewed->id, D("renewed")).ok());
  auto live = store_->ListLive(absl::Now());
  ASSERT_TRUE(live.ok());
  EXPECT_EQ(live->size(), 2u);

  absl::SleepFor(absl::Milliseconds(150));
  auto after = store_->Renew(renewed->id, absl::Minutes(1));
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_GT(after->expires, absl::Now() + absl::Seconds(50));
  absl::SleepFor(absl::Milliseconds(250));

  live = store_->ListLive(absl::Now());
  ASSERT_TRUE(live.ok());
  ASSERT_EQ(live->size(), 1u);
  EXPECT_EQ((*live)[0].id, renewed->id);
  EXPECT_THAT((*live)[0].blobs, ElementsAre(D("renewed")));
  // An expired lease can neither be renewed nor written under.
  EXPECT_TRUE(absl::IsNotFound(store_->Renew(short_lease->id, absl::Minutes(1)).status()));
  EXPECT_TRUE(absl::IsNotFound(store_->AddBlob(short_lease->id, D("late"))));

  auto removed = store_->RemoveExpired(absl::Now());
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, 1);
  EXPECT_FALSE(PathExists(dir_.Join("leases/" + short_lease->id)));
  EXPECT_TRUE(PathExists(dir_.Join("leases/" + renewed->id)));
}

// Another process on the same directory (a second replica) sees the same leases.
TEST_F(FsLeaseStoreTest, SharedThroughTheDirectory) {
  auto other = FsLeaseStore::Open(dir_.path());
  ASSERT_TRUE(other.ok());
  auto lease = store_->Create(absl::Minutes(1));
  ASSERT_TRUE(lease.ok());
  ASSERT_TRUE((*other)->AddBlob(lease->id, D("x")).ok());
  auto got = store_->Get(lease->id);
  ASSERT_TRUE(got.ok());
  EXPECT_THAT(got->blobs, ElementsAre(D("x")));
  ASSERT_TRUE((*other)->Delete(lease->id).ok());
  auto live = store_->ListLive(absl::Now());
  ASSERT_TRUE(live.ok());
  EXPECT_THAT(*live, IsEmpty());
}

// Parallel adds under one lease (a pull's layers) keep every entry.
TEST_F(FsLeaseStoreTest, ConcurrentAddsAreAllKept) {
  auto lease = store_->Create(absl::Minutes(1));
  ASSERT_TRUE(lease.ok());
  std::vector<std::thread> threads;
  std::vector<Digest> expected;
  for (int t = 0; t < 8; ++t) {
    for (int i = 0; i < 10; ++i) expected.push_back(D(absl::StrCat(t, "-", i)));
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        EXPECT_TRUE(store_->AddBlob(lease->id, D(absl::StrCat(t, "-", i))).ok());
        EXPECT_TRUE(store_->AddBlob(lease->id, D("shared")).ok());
      }
    });
  }
  for (auto& thread : threads) thread.join();
  expected.push_back(D("shared"));
  auto got = store_->Get(lease->id);
  ASSERT_TRUE(got.ok());
  std::sort(expected.begin(), expected.end());
  std::vector<Digest> blobs = got->blobs;
  std::sort(blobs.begin(), blobs.end());
  EXPECT_EQ(blobs, expected);
}

}  // namespace
}  // namespace strata::layerstore
