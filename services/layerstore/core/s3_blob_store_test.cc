// S3BlobStore against a real object store: OpenStack Swift with s3api on loopback, one server
// for the whole test binary (it is slow to start), a key prefix of its own for each test.
// The conformance suite runs unchanged; then what only a shared bucket has: replicas resuming
// each other's multipart uploads, blobs invisible until verified, a flaky server, wrong
// credentials.

#include "services/layerstore/core/s3_blob_store.h"

#include <unistd.h>

#include <atomic>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/base/fs.h"
#include "lib/testing/service_process.h"
#include "lib/testing/subprocess.h"
#include "lib/testing/swift_server.h"
#include "services/layerstore/core/blob_store_conformance.h"
#include "services/layerstore/core/test_blobs.h"

namespace strata::layerstore {
namespace {

using ::strata::testing::SwiftServer;
using ::testing::HasSubstr;

constexpr int64_t kMiB = 1 << 20;

std::string FreshPrefix() {
  static std::atomic<int> next{0};
  return absl::StrCat("t", ::getpid(), "-", next++, "/");
}

S3BlobStore::Options TestOptions(const std::string& prefix) {
  S3BlobStore::Options options;
  options.part_size = kMiB;  // the test server takes 1 MiB parts: multipart with small blobs
  options.prefix = prefix;
  options.lease_ttl = absl::Seconds(3);
  options.lease_settle = absl::Milliseconds(10);
  options.idle_flush = absl::Milliseconds(100);
  return options;
}

std::unique_ptr<S3BlobStore> OpenStore(const s3::S3Config& config,
                                       const S3BlobStore::Options& options) {
  auto client = s3::S3Client::Create(config);
  EXPECT_TRUE(client.ok()) << client.status();
  auto store = S3BlobStore::Open(std::move(*client), options);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? std::move(*store) : nullptr;
}

class S3Harness : public BlobStoreHarness {
 public:
  S3Harness()
      : config_(SwiftServer::Shared().Config()),
        options_(TestOptions(FreshPrefix())),
        store_(OpenStore(config_, options_)) {}
  BlobStore& store() override { return *store_; }
  void Restart() override {
    store_.reset();
    store_ = OpenStore(config_, options_);
  }
  std::unique_ptr<BlobStore> OpenReplica() override { return OpenStore(config_, options_); }

 private:
  const s3::S3Config config_;
  const S3BlobStore::Options options_;
  std::unique_ptr<S3BlobStore> store_;
};

INSTANTIATE_TEST_SUITE_P(Swift, BlobStoreConformanceTest,
                         ::testing::Values(BlobStoreConformanceParam{
                             "swift", [] { return std::make_unique<S3Harness>(); }}),
                         BlobStoreConformanceTest::ParamName);

absl::Status WriteAll(IngestWriter& writer, const std::string& data, size_t from,
                      size_t chunk = 256 * 1024) {
  for (size_t at = from; at < data.size(); at += chunk) {
    absl::Status status = writer.Write(static_cast<int64_t>(at), data.substr(at, chunk));
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadAll(BlobStore& store, const Digest& digest) {
  auto reader = store.OpenReader(digest, 0, 0);
  if (!reader.ok()) return reader.status();
  std::string out;
  std::string buffer(1 << 20, '\0');
  for (;;) {
    auto n = (*reader)->Read(buffer.data(), buffer.size());
    if (!n.ok()) return n.status();
    if (*n == 0) return out;
    out.append(buffer.data(), *n);
  }
}

// Replica A stores two parts and a tail of a blob whose digest it knows; the blob is not
// visible although its parts were uploaded for its final name; replica B resumes and commits.
TEST(S3BlobStoreTest, ReplicaResumesAMultipartUploadAndTheBlobAppearsOnlyVerified) {
  const s3::S3Config config = SwiftServer::Shared().Config();
  const S3BlobStore::Options options = TestOptions(FreshPrefix());
  const std::string data = RandomBytes(4 * kMiB + 321, 40);
  const Digest digest = Digest::Of(data);
  const size_t cut = 2 * kMiB + 1000;
  {
    std::unique_ptr<S3BlobStore> a = OpenStore(config, options);
    auto writer = a->OpenWriter("layer", {.digest = digest});
    ASSERT_TRUE(writer.ok()) << writer.status();
    ASSERT_TRUE(WriteAll(**writer, data.substr(0, cut), 0).ok());
    EXPECT_TRUE(absl::IsNotFound(a->Stat(digest).status()));
    auto page = a->List(std::nullopt, 10);
    ASSERT_TRUE(page.ok());
    EXPECT_TRUE(page->blobs.empty());
  }
  std::unique_ptr<S3BlobStore> b = OpenStore(config, options);
  auto status = b->GetUploadStatus("layer");
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(status->offset, static_cast<int64_t>(cut));
  auto writer = b->OpenWriter("layer", {});
  ASSERT_TRUE(writer.ok()) << writer.status();
  ASSERT_EQ((*writer)->offset(), static_cast<int64_t>(cut));
  EXPECT_EQ((*writer)->expected().digest, digest);
  ASSERT_TRUE(WriteAll(**writer, data, cut).ok());
  auto result = (*writer)->Commit();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->digest, digest);
  auto read = ReadAll(*b, digest);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_TRUE(*read == data);
}

// Without an expected digest the parts go to the upload's own key; a wrong digest at commit
// leaves nothing behind, a right one publishes.
TEST(S3BlobStoreTest, UploadWithoutDigestIsPublishedAfterVerifying) {
  std::unique_ptr<S3BlobStore> store =
      OpenStore(SwiftServer::Shared().Config(), TestOptions(FreshPrefix()));
  const std::string data = RandomBytes(3 * kMiB + 5, 41);
  auto writer = store->OpenWriter("no-digest", {});
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE(WriteAll(**writer, data, 0).ok());
  auto result = (*writer)->Commit();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->digest, Digest::Of(data));
  auto read = ReadAll(*store, Digest::Of(data));
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_TRUE(*read == data);
  auto left = store->client().ListObjects(store->UploadPrefix("no-digest"), "", 10, std::nullopt);
  ASSERT_TRUE(left.ok());
  EXPECT_TRUE(left->objects.empty()) << left->objects.front().key;
}

// A lease of a writer that went without giving it back (its process died) holds off other
// replicas until it expires; then they resume.
TEST(S3BlobStoreTest, ExpiredLeaseIsTakenOver) {
  const s3::S3Config config = SwiftServer::Shared().Config();
  S3BlobStore::Options options = TestOptions(FreshPrefix());
  options.lease_ttl = absl::Seconds(2);
  std::unique_ptr<S3BlobStore> store = OpenStore(config, options);
  {
    auto writer = store->OpenWriter("dead", {});
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->Write(0, "abc").ok());
  }
  // What a dead writer leaves: its lease in the state, unexpired.
  auto text = store->client().GetSmall(store->UploadPrefix("dead") + "state");
  ASSERT_TRUE(text.ok());
  auto state = DecodeUploadState(*text);
  ASSERT_TRUE(state.ok());
  state->holder = "someone-dead";
  state->lease_until = absl::Now() + absl::Seconds(2);
  ASSERT_TRUE(
      store->client().Put(store->UploadPrefix("dead") + "state", EncodeUploadState(*state)).ok());
  std::unique_ptr<S3BlobStore> other = OpenStore(config, options);
  EXPECT_TRUE(absl::IsAborted(other->OpenWriter("dead", {}).status()));
  EXPECT_TRUE(absl::IsAborted(other->AbortUpload("dead")));
  auto none = other->CleanUpAbandonedUploads(absl::ZeroDuration());
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, 0);
  absl::SleepFor(absl::Seconds(2.2));
  auto writer = other->OpenWriter("dead", {});
  ASSERT_TRUE(writer.ok()) << writer.status();
  EXPECT_EQ((*writer)->offset(), 3);
}

TEST(S3BlobStoreTest, WrongCredentialsFailAtOpen) {
  s3::S3Config config = SwiftServer::Shared().Config();
  config.credentials.secret_access_key = "not-the-secret";
  auto client = s3::S3Client::Create(config);
  ASSERT_TRUE(client.ok());
  auto store = S3BlobStore::Open(std::move(*client), TestOptions(FreshPrefix()));
  EXPECT_TRUE(absl::IsUnauthenticated(store.status())) << store.status();
  EXPECT_THAT(std::string(store.status().message()), HasSubstr(SwiftServer::kBucket));
  EXPECT_THAT(std::string(store.status().message()), ::testing::Not(HasSubstr("not-the-secret")));

  config = SwiftServer::Shared().Config();
  config.credentials.access_key_id = "nobody:nobody";
  client = s3::S3Client::Create(config);
  store = S3BlobStore::Open(std::move(*client), TestOptions(FreshPrefix()));
  EXPECT_TRUE(absl::IsUnauthenticated(store.status())) << store.status();

  config = SwiftServer::Shared().Config("no-such-bucket");
  client = s3::S3Client::Create(config);
  store = S3BlobStore::Open(std::move(*client), TestOptions(FreshPrefix()));
  EXPECT_TRUE(absl::IsNotFound(store.status())) << store.status();
}

TEST(S3BlobStoreTest, VirtualHostAddressing) {
  s3::S3Config config = SwiftServer::Shared().Config();
  // s3api is configured with storage_domain = localhost; curl resolves *.localhost to loopback.
  config.endpoint = absl::StrReplaceAll(config.endpoint, {{"127.0.0.1", "localhost"}});
  config.virtual_host = true;
  std::unique_ptr<S3BlobStore> store = OpenStore(config, TestOptions(FreshPrefix()));
  ASSERT_NE(store, nullptr);
  const std::string data = RandomBytes(kMiB + 3, 42);
  auto writer = store->OpenWriter("vhost", {});
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE(WriteAll(**writer, data, 0).ok());
  ASSERT_TRUE((*writer)->Commit().ok());
  auto read = ReadAll(*store, Digest::Of(data));
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_TRUE(*read == data);
}

// Through a proxy that answers 500/503 to a fifth of the requests and cuts a tenth of the
// GET responses: every request is retried or resumed, and nothing is lost.
TEST(S3BlobStoreTest, FlakyServerIsRetriedAndNothingIsLost) {
  const std::string upstream = SwiftServer::Shared().endpoint().substr(strlen("http://"));
  auto proxy = testing::ServiceProcess::StartCommand(
      {"/usr/bin/python3", testing::RunfilePath("tests/objectstore/flaky_proxy.py"), "--upstream",
       upstream, "--error-rate", "0.2", "--cut-rate", "0.1"});
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  s3::S3Config config = SwiftServer::Shared().Config();
  config.endpoint = absl::StrCat("http://", (*proxy)->address());
  config.max_attempts = 10;
  config.initial_backoff = absl::Milliseconds(5);
  std::unique_ptr<S3BlobStore> store = OpenStore(config, TestOptions(FreshPrefix()));
  ASSERT_NE(store, nullptr);
  std::vector<std::string> blobs;
  for (int i = 0; i < 4; ++i) {
    blobs.push_back(RandomBytes(i % 2 == 0 ? 3 * kMiB + i : 1000 + i, 50 + i));
    auto writer = store->OpenWriter(
        absl::StrCat("flaky-", i),
        i == 0 ? UploadExpectations{.digest = Digest::Of(blobs[i])} : UploadExpectations{});
    ASSERT_TRUE(writer.ok()) << writer.status();
    ASSERT_TRUE(WriteAll(**writer, blobs[i], 0).ok());
    auto result = (*writer)->Commit();
    ASSERT_TRUE(result.ok()) << result.status();
  }
  for (const std::string& data : blobs) {
    auto read = ReadAll(*store, Digest::Of(data));
    ASSERT_TRUE(read.ok()) << read.status();
    EXPECT_TRUE(*read == data);
  }
  auto page = store->List(std::nullopt, 10);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->blobs.size(), blobs.size());
  auto log = ReadFile((*proxy)->log_path());
  ASSERT_TRUE(log.ok());
  EXPECT_THAT(*log, HasSubstr("flaky_proxy:")) << "the proxy reported nothing";
}

}  // namespace
}  // namespace strata::layerstore
