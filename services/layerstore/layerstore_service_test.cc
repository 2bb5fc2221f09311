// strata.layerstore.v1 over a real gRPC channel on loopback: the in-process service on port 0
// for the contract, the strata-layerstore binary for restarts, replicas and flags.

#include "services/layerstore/layerstore_service.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpcpp/client_context.h"
#include "gtest/gtest.h"
#include "lib/base/fs.h"
#include "lib/digest/digest.h"
#include "lib/rpc/client.h"
#include "lib/rpc/limits.h"
#include "lib/rpc/server.h"
#include "lib/testing/service_process.h"
#include "lib/testing/subprocess.h"
#include "lib/testing/temp_dir.h"
#include "services/layerstore/core/fs_blob_store.h"
#include "services/layerstore/core/test_blobs.h"
#include "strata/layerstore/v1/layerstore.grpc.pb.h"

namespace strata::layerstore {
namespace {

using ::testing::HasSubstr;
using v1::LayerStore;

constexpr int64_t kMiB = 1 << 20;

// Runs fn until it returns true or timeout passes; returns its last answer.
bool Eventually(const std::function<bool()>& fn, absl::Duration timeout = absl::Seconds(10)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!fn()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return true;
}

struct Upload {
  std::string ref;
  std::string data;
  std::string expected_digest;
  std::optional<int64_t> expected_size;
  int64_t first_offset = 0;  // where the data starts (a resume)
  size_t chunk_size = kMiB;
  bool commit = true;
};

// One Write call: a first message with the ref and expectations (and no data), then the chunks.
grpc::Status Send(LayerStore::Stub& stub, const Upload& upload, v1::WriteResponse* response,
                  grpc::ClientContext* context = nullptr) {
  grpc::ClientContext own_context;
  if (context == nullptr) context = &own_context;
  auto stream = stub.Write(context, response);
  v1::WriteRequest request;
  request.set_ref(upload.ref);
  request.set_expected_digest(upload.expected_digest);
  if (upload.expected_size) request.set_expected_size(*upload.expected_size);
  request.set_offset(upload.first_offset);
  bool open = stream->Write(request);
  for (size_t at = 0; open && at < upload.data.size(); at += upload.chunk_size) {
    v1::WriteRequest chunk;
    chunk.set_offset(upload.first_offset + static_cast<int64_t>(at));
    chunk.set_data(upload.data.substr(at, upload.chunk_size));
    open = stream->Write(chunk);
  }
  if (open && upload.commit) {
    v1::WriteRequest commit;
    commit.set_offset(upload.first_offset + static_cast<int64_t>(upload.data.size()));
    commit.set_commit(true);
    open = stream->Write(commit);
  }
  if (open) stream->WritesDone();
  return stream->Finish();
}

struct ReadResult {
  grpc::Status status;
  std::string data;
  std::vector<v1::ReadResponse> headers;  // each response without its data
};

ReadResult ReadBlob(LayerStore::Stub& stub, const std::string& digest, int64_t offset = 0,
                    int64_t length = 0) {
  grpc::ClientContext context;
  v1::ReadRequest request;
  request.set_digest(digest);
  request.set_offset(offset);
  request.set_length(length);
  auto stream = stub.Read(&context, request);
  ReadResult result;
  v1::ReadResponse response;
  while (stream->Read(&response)) {
    result.data += response.data();
    response.clear_data();
    result.headers.push_back(response);
  }
  result.status = stream->Finish();
  return result;
}

grpc::Status StatBlob(LayerStore::Stub& stub, const std::string& digest,
                      v1::StatResponse* response = nullptr) {
  grpc::ClientContext context;
  v1::StatRequest request;
  request.set_digest(digest);
  v1::StatResponse ignored;
  return stub.Stat(&context, request, response ? response : &ignored);
}

grpc::Status GetWriteStatus(LayerStore::Stub& stub, const std::string& ref,
                            v1::WriteStatusResponse* response = nullptr) {
  grpc::ClientContext context;
  v1::WriteStatusRequest request;
  request.set_ref(ref);
  v1::WriteStatusResponse ignored;
  return stub.WriteStatus(&context, request, response ? response : &ignored);
}

grpc::Status AbortWrite(LayerStore::Stub& stub, const std::string& ref) {
  grpc::ClientContext context;
  v1::AbortWriteRequest request;
  request.set_ref(ref);
  v1::AbortWriteResponse response;
  return stub.AbortWrite(&context, request, &response);
}

grpc::Status DeleteBlob(LayerStore::Stub& stub, const std::string& digest) {
  grpc::ClientContext context;
  v1::DeleteRequest request;
  request.set_digest(digest);
  v1::DeleteResponse response;
  return stub.Delete(&context, request, &response);
}

// Opens a Write stream and sends the first message and `data` without ending it.
struct OpenStream {
  grpc::ClientContext context;
  v1::WriteResponse response;
  std::unique_ptr<grpc::ClientWriter<v1::WriteRequest>> stream;

  OpenStream(LayerStore::Stub& stub, const std::string& ref, const std::string& data,
             int64_t offset = 0) {
    stream = stub.Write(&context, &response);
    v1::WriteRequest request;
    request.set_ref(ref);
    request.set_offset(offset);
    request.set_data(data);
    stream->Write(request);
  }
};

std::unique_ptr<LayerStore::Stub> Connect(const std::string& address) {
  auto channel = rpc::Dial({.address = address});
  EXPECT_TRUE(channel.ok()) << channel.status();
  return LayerStore::NewStub(*channel);
}

class LayerStoreServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = FsBlobStore::Open(dir_.Join("root"));
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    service_ = std::make_unique<LayerStoreService>(store_.get());
    auto host = rpc::ServiceHost::Start({.listen = "127.0.0.1:0", .insecure = true},
                                        {{LayerStore::service_full_name(), service_.get()}});
    ASSERT_TRUE(host.ok()) << host.status();
    host_ = std::move(*host);
    stub_ = Connect(host_->address());
  }

  LayerStore::Stub& stub() { return *stub_; }

  testing::TempDir dir_{"layerstore"};
  std::unique_ptr<FsBlobStore> store_;
  std::unique_ptr<LayerStoreService> service_;
  std::unique_ptr<rpc::ServiceHost> host_;
  std::unique_ptr<LayerStore::Stub> stub_;
};

TEST_F(LayerStoreServiceTest, RoundTrip) {
  const std::string data = RandomBytes(5 * kMiB + 3, 1);
  const std::string digest = Digest::Of(data).str();
  v1::WriteResponse written;
  grpc::Status status = Send(stub(),
                             {.ref = "round-trip",
                              .data = data,
                              .expected_digest = digest,
                              .expected_size = static_cast<int64_t>(data.size())},
                             &written);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(written.committed());
  EXPECT_FALSE(written.already_existed());
  EXPECT_EQ(written.offset(), static_cast<int64_t>(data.size()));
  EXPECT_EQ(written.blob().digest(), digest);
  EXPECT_EQ(written.blob().size(), static_cast<int64_t>(data.size()));
  EXPECT_NEAR(written.blob().created().seconds(), absl::ToUnixSeconds(absl::Now()), 5);

  v1::StatResponse stat;
  ASSERT_TRUE(StatBlob(stub(), digest, &stat).ok());
  EXPECT_EQ(stat.blob().digest(), digest);
  EXPECT_EQ(stat.blob().size(), static_cast<int64_t>(data.size()));
  EXPECT_EQ(stat.blob().created().seconds(), written.blob().created().seconds());
  EXPECT_EQ(stat.blob().created().nanos(), written.blob().created().nanos());

  ReadResult read = ReadBlob(stub(), digest);
  ASSERT_TRUE(read.status.ok()) << read.status.error_message();
  EXPECT_TRUE(read.data == data);
  // Chunks of about 1 MiB, in order, each at the offset it claims.
  ASSERT_EQ(read.headers.size(), 6u);
  for (size_t i = 0; i < read.headers.size(); ++i) {
    EXPECT_EQ(read.headers[i].offset(), static_cast<int64_t>(i) * kMiB);
  }
}

TEST_F(LayerStoreServiceTest, RangedRead) {
  const std::string data = RandomBytes(3 * kMiB, 2);
  const std::string digest = Digest::Of(data).str();
  v1::WriteResponse written;
  ASSERT_TRUE(Send(stub(), {.ref = "ranged", .data = data}, &written).ok());

  ReadResult middle = ReadBlob(stub(), digest, kMiB - 10, kMiB + 20);
  ASSERT_TRUE(middle.status.ok()) << middle.status.error_message();
  EXPECT_TRUE(middle.data == data.substr(kMiB - 10, kMiB + 20));
  ASSERT_EQ(middle.headers.size(), 2u);
  EXPECT_EQ(middle.headers[0].offset(), kMiB - 10);
  EXPECT_EQ(middle.headers[1].offset(), 2 * kMiB - 10);

  ReadResult tail = ReadBlob(stub(), digest, 3 * kMiB - 5, 0);
  ASSERT_TRUE(tail.status.ok());
  EXPECT_EQ(tail.data, data.substr(3 * kMiB - 5));
  ReadResult beyond = ReadBlob(stub(), digest, 3 * kMiB - 5, 100);
  ASSERT_TRUE(beyond.status.ok());
  EXPECT_EQ(beyond.data, data.substr(3 * kMiB - 5));
  ReadResult at_end = ReadBlob(stub(), digest, 3 * kMiB, 0);
  ASSERT_TRUE(at_end.status.ok());
  EXPECT_TRUE(at_end.data.empty());

  for (auto [offset, length] :
       std::vector<std::pair<int64_t, int64_t>>{{3 * kMiB + 1, 0}, {-1, 0}, {0, -1}}) {
    ReadResult bad = ReadBlob(stub(), digest, offset, length);
    EXPECT_EQ(bad.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << offset << "+" << length << ": " << bad.status.error_message();
  }
}

TEST_F(LayerStoreServiceTest, ADamagedBlobIsDataLossWholeAndFoundByCheck) {
  const std::string data = RandomBytes(3 * kMiB + 7, 20);
  const std::string digest = Digest::Of(data).str();
  v1::WriteResponse written;
  ASSERT_TRUE(Send(stub(), {.ref = "to-damage", .data = data}, &written).ok());
  ASSERT_TRUE(Send(stub(), {.ref = "sound", .data = "sound"}, &written).ok());
  const std::string path = store_->BlobPath(Digest::Of(data));
  {
    ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    ASSERT_TRUE(fd.valid());
    ASSERT_EQ(::pwrite(fd.get(), "\x5a", 1, 12345), 1);
  }

  ReadResult whole = ReadBlob(stub(), digest);
  EXPECT_EQ(whole.status.error_code(), grpc::StatusCode::DATA_LOSS) << whole.status.error_message();
  EXPECT_THAT(whole.status.error_message(), HasSubstr(digest));
  EXPECT_LT(whole.data.size(), data.size());  // the last chunk is withheld
  ReadResult range = ReadBlob(stub(), digest, 2 * kMiB, 1000);
  ASSERT_TRUE(range.status.ok()) << range.status.error_message();
  EXPECT_TRUE(range.data == data.substr(2 * kMiB, 1000));

  grpc::ClientContext context;
  auto check = stub().Check(&context, v1::CheckRequest());
  v1::CheckResponse response, last;
  while (check->Read(&response)) last = response;
  ASSERT_TRUE(check->Finish().ok());
  EXPECT_TRUE(last.done());
  EXPECT_EQ(last.blobs_checked(), 2);
  ASSERT_EQ(last.damaged_size(), 1);
  EXPECT_EQ(last.damaged(0).digest(), digest);
  EXPECT_EQ(last.damaged(0).size(), static_cast<int64_t>(data.size()));
  EXPECT_THAT(last.damaged(0).quarantined_to(), HasSubstr("/quarantine/"));
  EXPECT_EQ(StatBlob(stub(), digest).error_code(), grpc::StatusCode::NOT_FOUND);

  // Writing it again stores it anew.
  ASSERT_TRUE(Send(stub(), {.ref = "repair", .data = data, .expected_digest = digest}, &written)
                  .ok());
  EXPECT_FALSE(written.already_existed());
  ReadResult repaired = ReadBlob(stub(), digest);
  ASSERT_TRUE(repaired.status.ok()) << repaired.status.error_message();
  EXPECT_TRUE(repaired.data == data);
}

TEST_F(LayerStoreServiceTest, MissingBlobIsNotFoundNamingTheDigest) {
  const std::string digest = Digest::Of("missing").str();
  grpc::Status stat = StatBlob(stub(), digest);
  EXPECT_EQ(stat.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(stat.error_message(), HasSubstr(digest));
  ReadResult read = ReadBlob(stub(), digest);
  EXPECT_EQ(read.status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(read.status.error_message(), HasSubstr(digest));
  grpc::Status deleted = DeleteBlob(stub(), digest);
  EXPECT_EQ(deleted.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(deleted.error_message(), HasSubstr(digest));
}

TEST_F(LayerStoreServiceTest, MalformedDigestsAreInvalidArgumentAndNeverPaths) {
  const std::string hex(Digest::Of("x").hex());
  std::string upper = hex;
  std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
  const std::vector<std::string> malformed = {
      "",
      "sha256:",
      "sha256",
      hex,
      "sha256:" + hex.substr(1),
      "sha256:" + hex + "0",
      "sha256:" + upper,
      "sha256:" + hex.substr(1) + "g",
      "md5:" + hex.substr(0, 32),
      "sha512:" + hex + hex,
      "SHA256:" + hex,
      "sha256:../../../../../../../../../../../../../../../../../../../etc/passwd",
      "sha256:" + hex.substr(0, 60) + "/../",
      "sha256:" + hex + "/../../x",
      "../blobs/sha256/" + hex.substr(0, 2) + "/" + hex,
      "/etc/passwd",
      "sha256:" + hex.substr(0, 63) + std::string(1, '\0'),
      " sha256:" + hex,
  };
  for (const std::string& digest : malformed) {
    EXPECT_EQ(StatBlob(stub(), digest).error_code(), grpc::StatusCode::INVALID_ARGUMENT) << digest;
    EXPECT_EQ(ReadBlob(stub(), digest).status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << digest;
    EXPECT_EQ(DeleteBlob(stub(), digest).error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << digest;
    if (!digest.empty()) {  // an empty expected digest means "no expectation"
      v1::WriteResponse response;
      grpc::Status write =
          Send(stub(), {.ref = "bad", .data = "x", .expected_digest = digest}, &response);
      EXPECT_EQ(write.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << digest;
      grpc::ClientContext context;
      v1::ListRequest list;
      list.set_page_token(digest);
      v1::ListResponse listed;
      EXPECT_EQ(stub().List(&context, list, &listed).error_code(),
                grpc::StatusCode::INVALID_ARGUMENT)
          << digest;
    }
  }
  // Nothing was created anywhere.
  EXPECT_EQ(GetWriteStatus(stub(), "bad").error_code(), grpc::StatusCode::NOT_FOUND);
  auto shards = store_->List(std::nullopt, 10);
  ASSERT_TRUE(shards.ok());
  EXPECT_TRUE(shards->blobs.empty());
}

TEST_F(LayerStoreServiceTest, ResumeAfterACut) {
  const std::string data = RandomBytes(4 * kMiB + 100, 3);
  const std::string digest = Digest::Of(data).str();
  {
    OpenStream cut(stub(), "cut", data.substr(0, kMiB));
    v1::WriteRequest second;
    second.set_offset(kMiB);
    second.set_data(data.substr(kMiB, kMiB));
    ASSERT_TRUE(cut.stream->Write(second));
    ASSERT_TRUE(Eventually([&] {
      v1::WriteStatusResponse status;
      return GetWriteStatus(stub(), "cut", &status).ok() && status.offset() == 2 * kMiB;
    }));
    cut.context.TryCancel();  // the client goes away mid-upload
    EXPECT_EQ(cut.stream->Finish().error_code(), grpc::StatusCode::CANCELLED);
  }
  v1::WriteStatusResponse status;
  ASSERT_TRUE(GetWriteStatus(stub(), "cut", &status).ok());
  EXPECT_EQ(status.ref(), "cut");
  EXPECT_EQ(status.offset(), 2 * kMiB);
  EXPECT_GT(status.started().seconds(), 0);
  EXPECT_GE(status.updated().seconds(), status.started().seconds());

  // A chunk at the wrong offset is refused, naming the right one. The cut writer may still be
  // letting go of the upload for a moment: ABORTED until then.
  grpc::Status wrong;
  ASSERT_TRUE(Eventually([&] {
    v1::WriteResponse response;
    wrong = Send(stub(), {.ref = "cut", .data = data, .first_offset = 0}, &response);
    return wrong.error_code() != grpc::StatusCode::ABORTED;
  }));
  EXPECT_EQ(wrong.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(wrong.error_message(), HasSubstr("expected offset 2097152"));

  v1::WriteResponse written;
  grpc::Status resumed = Send(stub(),
                              {.ref = "cut",
                               .data = data.substr(2 * kMiB),
                               .expected_digest = digest,
                               .first_offset = 2 * kMiB},
                              &written);
  ASSERT_TRUE(resumed.ok()) << resumed.error_message();
  EXPECT_TRUE(written.committed());
  EXPECT_EQ(written.blob().digest(), digest);
  ReadResult read = ReadBlob(stub(), digest);
  ASSERT_TRUE(read.status.ok());
  EXPECT_TRUE(read.data == data);
  EXPECT_EQ(GetWriteStatus(stub(), "cut").error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(LayerStoreServiceTest, EndingWithoutCommitLeavesTheUploadToResume) {
  v1::WriteResponse response;
  grpc::Status status =
      Send(stub(), {.ref = "later", .data = RandomBytes(1500, 4), .commit = false}, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_FALSE(response.committed());
  EXPECT_EQ(response.offset(), 1500);
  v1::WriteStatusResponse progress;
  ASSERT_TRUE(GetWriteStatus(stub(), "later", &progress).ok());
  EXPECT_EQ(progress.offset(), 1500);
  EXPECT_FALSE(progress.has_expected_size());
  ASSERT_TRUE(AbortWrite(stub(), "later").ok());
  EXPECT_EQ(GetWriteStatus(stub(), "later").error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(AbortWrite(stub(), "later").error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(LayerStoreServiceTest, DigestMismatchNamesBothAndKeepsNothing) {
  const std::string data = RandomBytes(2 * kMiB + 1, 5);
  const std::string wrong = Digest::Of("not this").str();
  v1::WriteResponse response;
  grpc::Status status =
      Send(stub(), {.ref = "mismatch", .data = data, .expected_digest = wrong}, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr(wrong));
  EXPECT_THAT(status.error_message(), HasSubstr(Digest::Of(data).str()));
  EXPECT_EQ(GetWriteStatus(stub(), "mismatch").error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(StatBlob(stub(), Digest::Of(data).str()).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(StatBlob(stub(), wrong).error_code(), grpc::StatusCode::NOT_FOUND);

  status = Send(stub(), {.ref = "size", .data = data, .expected_size = 2 * kMiB + 2}, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("2097154"));
  EXPECT_EQ(GetWriteStatus(stub(), "size").error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(LayerStoreServiceTest, SecondUploadOfTheSameRefAtOnceIsAborted) {
  OpenStream first(stub(), "same-ref", "first part");
  ASSERT_TRUE(Eventually([&] { return GetWriteStatus(stub(), "same-ref").ok(); }));

  v1::WriteResponse response;
  grpc::Status second = Send(stub(), {.ref = "same-ref", .data = "intruder"}, &response);
  EXPECT_EQ(second.error_code(), grpc::StatusCode::ABORTED) << second.error_message();
  EXPECT_EQ(AbortWrite(stub(), "same-ref").error_code(), grpc::StatusCode::ABORTED);

  v1::WriteRequest commit;
  commit.set_offset(10);
  commit.set_commit(true);
  ASSERT_TRUE(first.stream->Write(commit));
  first.stream->WritesDone();
  grpc::Status status = first.stream->Finish();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(first.response.blob().digest(), Digest::Of("first part").str());
}

TEST_F(LayerStoreServiceTest, SameDigestUnderManyRefsAtOnceIsStoredOnce) {
  const std::string data = RandomBytes(3 * kMiB + 7, 6);
  constexpr int kUploads = 4;
  std::vector<v1::WriteResponse> responses(kUploads);
  std::vector<grpc::Status> statuses(kUploads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kUploads; ++i) {
    threads.emplace_back([&, i] {
      statuses[i] =
          Send(stub(), {.ref = absl::StrCat("twin-", i), .data = data, .chunk_size = 256 * 1024},
               &responses[i]);
    });
  }
  for (std::thread& thread : threads) thread.join();
  int fresh = 0;
  for (int i = 0; i < kUploads; ++i) {
    ASSERT_TRUE(statuses[i].ok()) << statuses[i].error_message();
    EXPECT_EQ(responses[i].blob().digest(), Digest::Of(data).str());
    if (!responses[i].already_existed()) ++fresh;
  }
  EXPECT_EQ(fresh, 1);
  grpc::ClientContext context;
  v1::ListResponse listed;
  ASSERT_TRUE(stub().List(&context, v1::ListRequest(), &listed).ok());
  ASSERT_EQ(listed.blobs_size(), 1);
  EXPECT_EQ(listed.blobs(0).digest(), Digest::Of(data).str());
}

TEST_F(LayerStoreServiceTest, AStoredExpectedDigestEndsTheUploadAtOnce) {
  const std::string data = RandomBytes(2 * kMiB, 7);
  const std::string digest = Digest::Of(data).str();
  v1::WriteResponse first;
  ASSERT_TRUE(Send(stub(), {.ref = "original", .data = data}, &first).ok());

  // Only the first message: the server answers without waiting for bytes.
  v1::WriteResponse response;
  grpc::Status status =
      Send(stub(), {.ref = "copy", .expected_digest = digest, .commit = false}, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(response.committed());
  EXPECT_TRUE(response.already_existed());
  EXPECT_EQ(response.blob().digest(), digest);
  EXPECT_EQ(response.blob().size(), 2 * kMiB);
  EXPECT_EQ(response.offset(), 2 * kMiB);

  // A client that sends everything anyway gets the same answer.
  status = Send(stub(), {.ref = "copy-2", .data = data, .expected_digest = digest}, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(response.already_existed());
  EXPECT_EQ(GetWriteStatus(stub(), "copy-2").error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(LayerStoreServiceTest, DeleteWhileReadingReadsToTheEnd) {
  const std::string data = RandomBytes(8 * kMiB, 8);
  const std::string digest = Digest::Of(data).str();
  v1::WriteResponse written;
  ASSERT_TRUE(Send(stub(), {.ref = "doomed", .data = data}, &written).ok());

  grpc::ClientContext context;
  v1::ReadRequest request;
  request.set_digest(digest);
  auto stream = stub().Read(&context, request);
  v1::ReadResponse response;
  ASSERT_TRUE(stream->Read(&response));
  std::string read = response.data();
  ASSERT_TRUE(DeleteBlob(stub(), digest).ok());
  EXPECT_EQ(StatBlob(stub(), digest).error_code(), grpc::StatusCode::NOT_FOUND);
  while (stream->Read(&response)) read += response.data();
  grpc::Status status = stream->Finish();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(read == data);
}

TEST_F(LayerStoreServiceTest, WriteDeadlineEndsTheCallAndKeepsTheUpload) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Milliseconds(500)));
  v1::WriteResponse response;
  auto stream = stub().Write(&context, &response);
  v1::WriteRequest request;
  request.set_ref("slow");
  request.set_data(std::string(kMiB, 's'));
  ASSERT_TRUE(stream->Write(request));
  absl::SleepFor(absl::Seconds(1));  // the client stalls past its deadline
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);

  // The server let go of the upload, which kept what arrived.
  ASSERT_TRUE(Eventually([&] {
    v1::WriteResponse resumed;
    grpc::Status status =
        Send(stub(), {.ref = "slow", .data = "!", .first_offset = kMiB}, &resumed);
    return status.ok();
  }));
  EXPECT_TRUE(StatBlob(stub(), Digest::Of(std::string(kMiB, 's') + "!").str()).ok());
}

TEST_F(LayerStoreServiceTest, ReadDeadlineIsHonoured) {
  const std::string data = RandomBytes(64 * kMiB, 9);
  v1::WriteResponse written;
  ASSERT_TRUE(Send(stub(), {.ref = "big", .data = data}, &written).ok());
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Milliseconds(300)));
  v1::ReadRequest request;
  request.set_digest(Digest::Of(data).str());
  auto stream = stub().Read(&context, request);
  v1::ReadResponse response;
  ASSERT_TRUE(stream->Read(&response));
  absl::SleepFor(absl::Seconds(1));  // far more than flow control lets the server send ahead
  int64_t received = static_cast<int64_t>(response.data().size());
  while (stream->Read(&response)) received += static_cast<int64_t>(response.data().size());
  EXPECT_LT(received, 64 * kMiB);
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
}

TEST_F(LayerStoreServiceTest, ListPagesInDigestOrder) {
  std::vector<std::string> digests;
  for (int i = 0; i < 12; ++i) {
    const std::string data = absl::StrCat("listed ", i);
    v1::WriteResponse written;
    ASSERT_TRUE(Send(stub(), {.ref = absl::StrCat("list-", i), .data = data}, &written).ok());
    digests.push_back(Digest::Of(data).str());
  }
  std::sort(digests.begin(), digests.end());
  std::vector<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    grpc::ClientContext context;
    v1::ListRequest request;
    request.set_page_size(5);
    request.set_page_token(token);
    v1::ListResponse response;
    grpc::Status status = stub().List(&context, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_LE(response.blobs_size(), 5);
    for (const v1::BlobInfo& blob : response.blobs()) {
      seen.push_back(blob.digest());
      EXPECT_GT(blob.size(), 0);
      EXPECT_GT(blob.created().seconds(), 0);
    }
    token = response.next_page_token();
    ++pages;
  } while (!token.empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen, digests);

  grpc::ClientContext context;
  v1::ListResponse all;
  ASSERT_TRUE(stub().List(&context, v1::ListRequest(), &all).ok());
  EXPECT_EQ(all.blobs_size(), 12);
  EXPECT_TRUE(all.next_page_token().empty());

  grpc::ClientContext negative_context;
  v1::ListRequest negative;
  negative.set_page_size(-1);
  EXPECT_EQ(stub().List(&negative_context, negative, &all).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(LayerStoreServiceTest, BadWritesAreInvalidArgument) {
  v1::WriteResponse response;
  EXPECT_EQ(Send(stub(), {.ref = "", .data = "x"}, &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Send(stub(), {.ref = std::string(257, 'r'), .data = "x"}, &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(Send(stub(), {.ref = std::string(256, 'r'), .data = "x"}, &response).ok());
  EXPECT_EQ(
      Send(stub(),
           {.ref = "big-chunk", .data = std::string(4 * kMiB + 1, 'c'), .chunk_size = 4 * kMiB + 1},
           &response)
          .error_code(),
      grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Send(stub(), {.ref = "negative", .expected_size = -5}, &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(GetWriteStatus(stub(), "").error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(AbortWrite(stub(), "").error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(GetWriteStatus(stub(), "unknown").error_code(), grpc::StatusCode::NOT_FOUND);

  // An empty stream names what is missing.
  grpc::ClientContext context;
  auto stream = stub().Write(&context, &response);
  stream->WritesDone();
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(LayerStoreServiceTest, ResumingWithOtherExpectationsIsFailedPrecondition) {
  v1::WriteResponse response;
  ASSERT_TRUE(
      Send(stub(), {.ref = "picky", .data = "abc", .expected_size = 10, .commit = false}, &response)
          .ok());
  grpc::Status status = Send(
      stub(), {.ref = "picky", .data = "def", .expected_size = 11, .first_offset = 3}, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << status.error_message();
}

// The binary: restarts, two replicas on one directory, flags.
class LayerstoreBinaryTest : public ::testing::Test {
 protected:
  std::unique_ptr<testing::ServiceProcess> StartServer(std::vector<std::string> extra = {}) {
    extra.push_back("--root=" + root_.path());
    auto process = testing::ServiceProcess::Start(
        testing::RunfilePath("services/layerstore/strata-layerstore"), extra);
    EXPECT_TRUE(process.ok()) << process.status();
    return process.ok() ? std::move(*process) : nullptr;
  }

  testing::TempDir root_{"layerstore-root"};
};

TEST_F(LayerstoreBinaryTest, RestartWithAnUploadInProgress) {
  const std::string data = RandomBytes(6 * kMiB + 9, 10);
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  auto stub = Connect(server->address());
  {
    OpenStream upload(*stub, "across-restart", data.substr(0, kMiB));
    for (int64_t at = kMiB; at < 3 * kMiB; at += kMiB) {
      v1::WriteRequest chunk;
      chunk.set_offset(at);
      chunk.set_data(data.substr(at, kMiB));
      ASSERT_TRUE(upload.stream->Write(chunk));
    }
    ASSERT_TRUE(Eventually([&] {
      v1::WriteStatusResponse status;
      return GetWriteStatus(*stub, "across-restart", &status).ok() && status.offset() == 3 * kMiB;
    }));
    server->Stop(/*kill_hard=*/true);  // the server dies mid-upload
    upload.stream->Finish();
  }

  server = StartServer();
  ASSERT_NE(server, nullptr);
  stub = Connect(server->address());
  v1::WriteStatusResponse status;
  ASSERT_TRUE(GetWriteStatus(*stub, "across-restart", &status).ok());
  ASSERT_EQ(status.offset(), 3 * kMiB);
  v1::WriteResponse written;
  grpc::Status resumed = Send(*stub,
                              {.ref = "across-restart",
                               .data = data.substr(3 * kMiB),
                               .expected_digest = Digest::Of(data).str(),
                               .first_offset = 3 * kMiB},
                              &written);
  ASSERT_TRUE(resumed.ok()) << resumed.error_message();
  ReadResult read = ReadBlob(*stub, Digest::Of(data).str());
  ASSERT_TRUE(read.status.ok());
  EXPECT_TRUE(read.data == data);
}

TEST_F(LayerstoreBinaryTest, TwoReplicasOnOneDirectoryNeverShareAnUpload) {
  auto one = StartServer();
  auto two = StartServer();
  ASSERT_NE(one, nullptr);
  ASSERT_NE(two, nullptr);
  auto stub_one = Connect(one->address());
  auto stub_two = Connect(two->address());

  OpenStream held(*stub_one, "shared", "from one");
  ASSERT_TRUE(Eventually([&] { return GetWriteStatus(*stub_two, "shared").ok(); }));
  v1::WriteResponse response;
  grpc::Status refused = Send(*stub_two, {.ref = "shared", .data = "from two"}, &response);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::ABORTED) << refused.error_message();

  v1::WriteRequest commit;
  commit.set_commit(true);
  ASSERT_TRUE(held.stream->Write(commit));
  held.stream->WritesDone();
  ASSERT_TRUE(held.stream->Finish().ok());
  // What one replica committed, the other serves.
  ReadResult read = ReadBlob(*stub_two, Digest::Of("from one").str());
  ASSERT_TRUE(read.status.ok()) << read.status.error_message();
  EXPECT_EQ(read.data, "from one");
}

TEST_F(LayerstoreBinaryTest, AbandonedUploadsAreCleanedUp) {
  auto server = StartServer({"--ingest-max-age=1s"});
  ASSERT_NE(server, nullptr);
  auto stub = Connect(server->address());
  v1::WriteResponse response;
  ASSERT_TRUE(Send(*stub, {.ref = "forgotten", .data = "abc", .commit = false}, &response).ok());
  ASSERT_TRUE(GetWriteStatus(*stub, "forgotten").ok());
  EXPECT_TRUE(Eventually(
      [&] {
        return GetWriteStatus(*stub, "forgotten").error_code() == grpc::StatusCode::NOT_FOUND;
      },
      absl::Seconds(15)));
}

TEST_F(LayerstoreBinaryTest, ABadMaxAgeIsRefused) {
  auto run =
      testing::Run({testing::RunfilePath("services/layerstore/strata-layerstore"),
                    "--listen=127.0.0.1:0", "--root=" + root_.path(), "--ingest-max-age=soon"});
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->exit_code, 1);
  EXPECT_THAT(run->output, HasSubstr("--ingest-max-age"));
}

}  // namespace
}  // namespace strata::layerstore
