// LayerstoreClient against the real service over a real gRPC channel on loopback.

#include "services/layerstore/client/layerstore_client.h"

#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/rpc/client.h"
#include "lib/rpc/server.h"
#include "lib/testing/temp_dir.h"
#include "services/layerstore/core/fs_blob_store.h"
#include "services/layerstore/core/test_blobs.h"
#include "services/layerstore/layerstore_service.h"

namespace strata::layerstore {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kMiB = 1 << 20;

bool Eventually(const std::function<bool()>& fn, absl::Duration timeout = absl::Seconds(10)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!fn()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return true;
}

class LayerstoreClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = FsBlobStore::Open(dir_.Join("root"));
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    service_ = std::make_unique<LayerStoreService>(store_.get());
    auto host = rpc::ServiceHost::Start({.listen = "127.0.0.1:0", .insecure = true},
                                        {{v1::LayerStore::service_full_name(), service_.get()}});
    ASSERT_TRUE(host.ok()) << host.status();
    host_ = std::move(*host);
    client_ = MakeClient();
  }

  std::unique_ptr<LayerstoreClient> MakeClient(LayerstoreClientOptions options = {}) {
    auto channel = rpc::Dial({.address = host_->address()});
    EXPECT_TRUE(channel.ok()) << channel.status();
    return std::make_unique<LayerstoreClient>(*channel, options);
  }

  LayerstoreClient& client() { return *client_; }

  // Reads the reader to its end, checking chunk sizes.
  static absl::StatusOr<std::string> Drain(BlobReader& reader) {
    std::string out;
    for (;;) {
      absl::StatusOr<absl::string_view> chunk = reader.Next();
      if (!chunk.ok()) return chunk.status();
      if (chunk->empty()) return out;
      EXPECT_LE(chunk->size(), static_cast<size_t>(kMiB));
      out.append(chunk->data(), chunk->size());
    }
  }

  bool UploadExists(const std::string& ref) { return client().WriteStatus(ref).ok(); }

  testing::TempDir dir_{"layerstore"};
  std::unique_ptr<FsBlobStore> store_;
  std::unique_ptr<LayerStoreService> service_;
  std::unique_ptr<rpc::ServiceHost> host_;
  std::unique_ptr<LayerstoreClient> client_;
};

TEST_F(LayerstoreClientTest, WritesInAnyPiecesAndReadsBack) {
  const std::string data = RandomBytes(3 * kMiB + 333, 1);
  auto writer = client().OpenWriter("pieces");
  ASSERT_TRUE(writer.ok()) << writer.status();
  EXPECT_EQ((*writer)->offset(), 0);
  size_t at = 0;
  const std::vector<size_t> sizes = {1, 7, 4096, kMiB + 3, 100000, 2 * kMiB};
  for (size_t i = 0; at < data.size(); ++i) {
    const size_t n = std::min(sizes[i % sizes.size()], data.size() - at);
    ASSERT_TRUE((*writer)->Write(absl::string_view(data).substr(at, n)).ok());
    at += n;
  }
  EXPECT_EQ((*writer)->offset(), static_cast<int64_t>(data.size()));
  auto result = (*writer)->Commit();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->digest, Digest::Of(data));
  EXPECT_EQ(result->size, static_cast<int64_t>(data.size()));
  EXPECT_FALSE(result->already_existed);
  EXPECT_LE(absl::AbsDuration(result->created - absl::Now()), absl::Seconds(10));
  EXPECT_TRUE(absl::IsFailedPrecondition((*writer)->Write("more")));

  auto info = client().Stat(Digest::Of(data));
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->size, static_cast<int64_t>(data.size()));
  EXPECT_EQ(info->created, result->created);

  auto reader = client().OpenReader(Digest::Of(data));
  ASSERT_TRUE(reader.ok()) << reader.status();
  auto read = Drain(**reader);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_TRUE(*read == data);
  EXPECT_EQ((*reader)->offset(), static_cast<int64_t>(data.size()));
  auto after_end = (*reader)->Next();
  ASSERT_TRUE(after_end.ok());
  EXPECT_TRUE(after_end->empty());
}

TEST_F(LayerstoreClientTest, WriteBufferMixesWithWrite) {
  const std::string data = RandomBytes(5 * kMiB + 9, 11);
  auto writer = client().OpenWriter("buffers", Digest::Of(data));
  ASSERT_TRUE(writer.ok()) << writer.status();
  // Whole chunks as they are, a small piece (copied), then a chunk that follows buffered
  // bytes (copied too), then the rest.
  ASSERT_TRUE((*writer)->WriteBuffer(data.substr(0, kMiB)).ok());
  ASSERT_TRUE((*writer)->WriteBuffer(data.substr(kMiB, kMiB / 2)).ok());
  ASSERT_TRUE((*writer)->WriteBuffer(data.substr(kMiB + kMiB / 2, 100)).ok());
  ASSERT_TRUE((*writer)->WriteBuffer(data.substr(kMiB + kMiB / 2 + 100, kMiB)).ok());
  ASSERT_TRUE((*writer)->Write(absl::string_view(data).substr(2 * kMiB + kMiB / 2 + 100)).ok());
  EXPECT_EQ((*writer)->offset(), static_cast<int64_t>(data.size()));
  auto result = (*writer)->Commit();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->digest, Digest::Of(data));
}

TEST_F(LayerstoreClientTest, RangedReadsAndErrorsAtOpen) {
  const std::string data = RandomBytes(2 * kMiB + 50, 2);
  ASSERT_TRUE(client().Put("ranged", data).ok());
  auto reader = client().OpenReader(Digest::Of(data), 100, kMiB + 7);
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ((*reader)->offset(), 100);
  auto read = Drain(**reader);
  ASSERT_TRUE(read.ok());
  EXPECT_TRUE(*read == data.substr(100, kMiB + 7));

  auto past = client().OpenReader(Digest::Of(data), 2 * kMiB + 51);
  EXPECT_TRUE(absl::IsInvalidArgument(past.status())) << past.status();
  auto empty = client().OpenReader(Digest::Of(data), 2 * kMiB + 50);
  ASSERT_TRUE(empty.ok()) << empty.status();
  auto nothing = Drain(**empty);
  ASSERT_TRUE(nothing.ok());
  EXPECT_TRUE(nothing->empty());

  const Digest missing = Digest::Of("missing");
  auto not_found = client().OpenReader(missing);
  EXPECT_TRUE(absl::IsNotFound(not_found.status())) << not_found.status();
  EXPECT_THAT(std::string(not_found.status().message()), HasSubstr(missing.str()));
  EXPECT_TRUE(absl::IsNotFound(client().Stat(missing).status()));
  EXPECT_TRUE(absl::IsNotFound(client().ReadAll(missing).status()));
}

TEST_F(LayerstoreClientTest, AReaderCanStopEarly) {
  const std::string data = RandomBytes(16 * kMiB, 3);
  ASSERT_TRUE(client().Put("early", data).ok());
  {
    auto reader = client().OpenReader(Digest::Of(data));
    ASSERT_TRUE(reader.ok());
    auto first = (*reader)->Next();
    ASSERT_TRUE(first.ok());
    EXPECT_EQ(first->size(), static_cast<size_t>(kMiB));
  }  // destroyed mid-stream: the call is cancelled
  auto again = client().ReadAll(Digest::Of(data));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(*again == data);
  auto small = client().ReadAll(Digest::Of(data), kMiB);
  EXPECT_TRUE(absl::IsResourceExhausted(small.status())) << small.status();
}

TEST_F(LayerstoreClientTest, WrongExpectedDigestKeepsNothing) {
  const std::string data = RandomBytes(kMiB + 5, 4);
  const Digest wrong = Digest::Of("wrong");
  auto writer = client().OpenWriter("wrong", wrong);
  ASSERT_TRUE(writer.ok()) << writer.status();
  ASSERT_TRUE((*writer)->Write(data).ok());
  auto result = (*writer)->Commit();
  EXPECT_TRUE(absl::IsInvalidArgument(result.status())) << result.status();
  EXPECT_THAT(std::string(result.status().message()), HasSubstr(wrong.str()));
  EXPECT_THAT(std::string(result.status().message()), HasSubstr(Digest::Of(data).str()));
  EXPECT_TRUE(absl::IsNotFound(client().WriteStatus("wrong").status()));
  EXPECT_TRUE(absl::IsNotFound(client().Stat(Digest::Of(data)).status()));

  auto short_writer = client().OpenWriter("short", std::nullopt, 10);
  ASSERT_TRUE(short_writer.ok());
  ASSERT_TRUE((*short_writer)->Write("12345").ok());
  EXPECT_TRUE(absl::IsInvalidArgument((*short_writer)->Commit().status()));
}

TEST_F(LayerstoreClientTest, AStoredBlobIsReportedNotWrittenAgain) {
  const std::string data = RandomBytes(6 * kMiB, 5);
  auto first = client().Put("first", data);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_FALSE(first->already_existed);
  auto second = client().Put("second", data);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_TRUE(second->already_existed);
  EXPECT_EQ(second->created, first->created);

  // With the digest known up front, the server says so at once and the bytes are dropped.
  auto writer = client().OpenWriter("third", Digest::Of(data));
  ASSERT_TRUE(writer.ok()) << writer.status();
  for (int64_t at = 0; at < 6 * kMiB; at += kMiB) {
    ASSERT_TRUE((*writer)->Write(absl::string_view(data).substr(at, kMiB)).ok());
  }
  auto third = (*writer)->Commit();
  ASSERT_TRUE(third.ok()) << third.status();
  EXPECT_TRUE(third->already_existed);
  EXPECT_EQ(third->digest, Digest::Of(data));
  EXPECT_EQ(third->size, 6 * kMiB);
  EXPECT_TRUE(absl::IsNotFound(client().WriteStatus("third").status()));
}

TEST_F(LayerstoreClientTest, AbortLeavesNothing) {
  auto writer = client().OpenWriter("aborted");
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Write(RandomBytes(2 * kMiB + 10, 6)).ok());
  ASSERT_TRUE(Eventually([&] { return UploadExists("aborted"); }));
  (*writer)->Abort();
  EXPECT_TRUE(absl::IsNotFound(client().WriteStatus("aborted").status()));
  EXPECT_TRUE(absl::IsFailedPrecondition((*writer)->Write("x")));
  EXPECT_TRUE(absl::IsFailedPrecondition((*writer)->Commit().status()));
}

// A failed import aborts its upload before sending a byte: the abort must not overtake the
// server's creation of the upload (which once left 0-byte uploads behind for 24 hours).
TEST_F(LayerstoreClientTest, AbortRightAfterOpeningLeavesNothing) {
  constexpr int kUploads = 40;
  for (int i = 0; i < kUploads; ++i) {
    auto writer = client().OpenWriter(absl::StrCat("quick-", i));
    ASSERT_TRUE(writer.ok());
    if (i % 2 == 1) {
      ASSERT_TRUE((*writer)->Write("a few bytes").ok());
    }
    (*writer)->Abort();
  }
  absl::SleepFor(absl::Milliseconds(300));  // what the server was still doing is done
  for (int i = 0; i < kUploads; ++i) {
    const std::string ref = absl::StrCat("quick-", i);
    EXPECT_TRUE(absl::IsNotFound(client().WriteStatus(ref).status())) << ref << " left behind";
  }
}

TEST_F(LayerstoreClientTest, DroppingAWriterAbortsIt) {
  {
    auto writer = client().OpenWriter("dropped");
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->Write("some bytes").ok());
    ASSERT_TRUE(Eventually([&] { return UploadExists("dropped"); }));
  }
  EXPECT_TRUE(absl::IsNotFound(client().WriteStatus("dropped").status()));
}

TEST_F(LayerstoreClientTest, SuspendedUploadResumesWhereItStopped) {
  const std::string data = RandomBytes(4 * kMiB + 77, 7);
  const size_t cut = 2 * kMiB + kMiB / 2;
  {
    auto writer = client().OpenWriter("suspended", Digest::Of(data));
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->Write(absl::string_view(data).substr(0, cut)).ok());
    ASSERT_TRUE((*writer)->Suspend().ok());
  }
  auto status = client().WriteStatus("suspended");
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(status->offset, static_cast<int64_t>(cut));
  EXPECT_EQ(status->expected.digest, Digest::Of(data));

  auto writer = client().OpenWriter("suspended", Digest::Of(data));
  ASSERT_TRUE(writer.ok()) << writer.status();
  ASSERT_EQ((*writer)->offset(), static_cast<int64_t>(cut));
  ASSERT_TRUE((*writer)->Write(absl::string_view(data).substr(cut)).ok());
  auto result = (*writer)->Commit();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->digest, Digest::Of(data));

  auto conflicting = client().OpenWriter("suspended-2", Digest::Of("a"));
  ASSERT_TRUE(conflicting.ok());
  ASSERT_TRUE((*conflicting)->Suspend().ok());
  auto refused = client().OpenWriter("suspended-2", Digest::Of("b"));
  EXPECT_TRUE(absl::IsFailedPrecondition(refused.status())) << refused.status();
  // The refused writer left the other upload alone.
  auto other = client().WriteStatus("suspended-2");
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_EQ(other->expected.digest, Digest::Of("a"));
}

TEST_F(LayerstoreClientTest, PutResumesAndReplacesLeftovers) {
  const std::string data = RandomBytes(3 * kMiB, 8);
  {
    auto writer = client().OpenWriter("put");
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->Write(absl::string_view(data).substr(0, kMiB + 1)).ok());
    ASSERT_TRUE((*writer)->Suspend().ok());
  }
  auto put = client().Put("put", data);
  ASSERT_TRUE(put.ok()) << put.status();
  EXPECT_EQ(put->digest, Digest::Of(data));

  // A leftover of other bytes, longer than the new data, is discarded.
  {
    auto writer = client().OpenWriter("put-2", std::nullopt, 100);
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->Write(std::string(50, 'x')).ok());
    ASSERT_TRUE((*writer)->Suspend().ok());
  }
  auto replaced = client().Put("put-2", "short");
  ASSERT_TRUE(replaced.ok()) << replaced.status();
  EXPECT_EQ(replaced->digest, Digest::Of("short"));
}

TEST_F(LayerstoreClientTest, SecondWriterOfABusyRefIsAbortedAndHarmless) {
  auto first = client().OpenWriter("busy");
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE((*first)->Write("first").ok());
  ASSERT_TRUE(Eventually([&] { return UploadExists("busy"); }));
  {
    auto second = client().OpenWriter("busy");
    ASSERT_TRUE(second.ok()) << second.status();  // the server answers on the stream
    absl::Status status = (*second)->Write(RandomBytes(3 * kMiB, 9));
    absl::StatusOr<CommitResult> result =
        status.ok() ? (*second)->Commit() : absl::StatusOr<CommitResult>(status);
    EXPECT_TRUE(absl::IsAborted(result.status())) << result.status();
  }  // dropping it must not discard the first writer's upload
  ASSERT_TRUE((*first)->Write(" and more").ok());
  auto result = (*first)->Commit();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->digest, Digest::Of("first and more"));
}

TEST_F(LayerstoreClientTest, ListDeleteAndPages) {
  std::vector<Digest> digests;
  for (int i = 0; i < 5; ++i) {
    const std::string data = absl::StrCat("listed ", i);
    ASSERT_TRUE(client().Put(absl::StrCat("list-", i), data).ok());
    digests.push_back(Digest::Of(data));
  }
  std::sort(digests.begin(), digests.end());
  auto page = client().List(2);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->blobs.size(), 2u);
  EXPECT_EQ(page->blobs[0].digest, digests[0]);
  EXPECT_FALSE(page->next_page_token.empty());
  auto next = client().List(2, page->next_page_token);
  ASSERT_TRUE(next.ok());
  ASSERT_EQ(next->blobs.size(), 2u);
  EXPECT_EQ(next->blobs[0].digest, digests[2]);
  EXPECT_TRUE(absl::IsInvalidArgument(client().List(2, "garbage").status()));

  ASSERT_TRUE(client().Delete(digests[1]).ok());
  EXPECT_TRUE(absl::IsNotFound(client().Delete(digests[1])));
  auto all = client().ListAll();
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), 4u);
  EXPECT_EQ((*all)[1].digest, digests[2]);
}

TEST_F(LayerstoreClientTest, StreamDeadlineIsHonoured) {
  auto client = MakeClient({.stream_timeout = absl::Milliseconds(300)});
  auto writer = client->OpenWriter("deadline");
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Write("slow").ok());
  absl::SleepFor(absl::Milliseconds(800));
  auto result = (*writer)->Commit();
  EXPECT_EQ(result.status().code(), absl::StatusCode::kDeadlineExceeded) << result.status();
}

TEST_F(LayerstoreClientTest, NoServerIsUnavailable) {
  auto channel = rpc::Dial({.address = "127.0.0.1:1"});
  ASSERT_TRUE(channel.ok());
  LayerstoreClient nowhere(*channel, {.call_timeout = absl::Seconds(5)});
  EXPECT_TRUE(absl::IsUnavailable(nowhere.Stat(Digest::Of("x")).status()));
  EXPECT_TRUE(absl::IsUnavailable(nowhere.OpenReader(Digest::Of("x")).status()));
  EXPECT_TRUE(absl::IsUnavailable(nowhere.OpenWriter("x").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(nowhere.OpenWriter("").status()));
}

}  // namespace
}  // namespace strata::layerstore
