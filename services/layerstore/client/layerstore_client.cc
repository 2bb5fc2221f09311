#include "services/layerstore/client/layerstore_client.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/sync_stream.h"
#include "lib/base/errors.h"
#include "lib/rpc/limits.h"
#include "lib/rpc/status.h"

namespace strata::layerstore {
namespace {

using Stub = v1::LayerStore::Stub;

// How long Abort keeps asking the server to discard an upload it still holds: the server lets
// go of an upload when it notices the cancelled stream, which takes a moment.
constexpr absl::Duration kAbortPatience = absl::Seconds(5);

std::string Upload(absl::string_view ref) {
  return absl::StrCat("upload \"", absl::CHexEscape(ref), "\"");
}

void SetDeadline(grpc::ClientContext& context, absl::Duration timeout) {
  if (timeout != absl::InfiniteDuration()) {
    context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  }
}

absl::Time FromTimestamp(const google::protobuf::Timestamp& timestamp) {
  return absl::FromUnixSeconds(timestamp.seconds()) + absl::Nanoseconds(timestamp.nanos());
}

absl::StatusOr<BlobInfo> FromProto(const v1::BlobInfo& blob) {
  absl::StatusOr<Digest> digest = Digest::Parse(blob.digest());
  if (!digest.ok()) {
    return absl::DataLossError(absl::StrCat("the layerstore answered with a malformed digest: ",
                                            digest.status().message()));
  }
  return BlobInfo{*digest, blob.size(), FromTimestamp(blob.created())};
}

absl::StatusOr<CommitResult> ToCommitResult(const std::string& ref,
                                            const v1::WriteResponse& response) {
  if (!response.committed()) {
    return absl::InternalError(
        absl::StrCat(Upload(ref), ": the layerstore ended the upload without committing it"));
  }
  ASSIGN_OR_RETURN(BlobInfo blob, FromProto(response.blob()));
  return CommitResult{blob.digest, blob.size, blob.created, response.already_existed()};
}

// A Read stream. The first chunk is awaited when opening, so that errors about the request
// (NOT_FOUND, INVALID_ARGUMENT) come from OpenReader.
class GrpcBlobReader final : public BlobReader {
 public:
  GrpcBlobReader(std::shared_ptr<Stub> stub, int64_t offset)
      : stub_(std::move(stub)), next_offset_(offset) {}

  ~GrpcBlobReader() override {
    if (stream_ != nullptr && !done_) {
      context_.TryCancel();
      stream_->Finish();
    }
  }

  absl::Status Start(const v1::ReadRequest& request, absl::Duration timeout) {
    SetDeadline(context_, timeout);
    stream_ = stub_->Read(&context_, request);
    if (stream_->Read(&response_)) {
      pending_ = true;
      return absl::OkStatus();
    }
    return FinishStream();
  }

  absl::StatusOr<absl::string_view> Next() override {
    for (;;) {
      if (done_) {
        if (!final_status_.ok()) return final_status_;
        return absl::string_view();
      }
      if (!pending_ && !stream_->Read(&response_)) {
        FinishStream().IgnoreError();  // kept in final_status_
        continue;
      }
      pending_ = false;
      if (response_.offset() != next_offset_) {
        context_.TryCancel();
        stream_->Finish();
        done_ = true;
        final_status_ = absl::DataLossError(
            absl::StrCat("read: the layerstore sent a chunk at offset ", response_.offset(),
                         " where ", next_offset_, " was due"));
        continue;
      }
      next_offset_ += static_cast<int64_t>(response_.data().size());
      if (!response_.data().empty()) return absl::string_view(response_.data());
    }
  }

  int64_t offset() const override { return next_offset_; }

 private:
  absl::Status FinishStream() {
    done_ = true;
    final_status_ = rpc::FromGrpc(stream_->Finish());
    return final_status_;
  }

  std::shared_ptr<Stub> stub_;
  grpc::ClientContext context_;  // outlives stream_
  std::unique_ptr<grpc::ClientReader<v1::ReadResponse>> stream_;
  v1::ReadResponse response_;
  bool pending_ = false;  // response_ holds a chunk Next has not returned yet
  bool done_ = false;
  absl::Status final_status_;
  int64_t next_offset_;
};

// A Write stream fed by a sender thread: the producer fills ~1 MiB chunks and queues them;
// the sender writes them to the stream (blocking on gRPC flow control, not the producer).
// Chunk buffers go back to the producer once sent, so a long upload allocates a few only.
class StreamingBlobWriter final : public BlobWriter {
 public:
  StreamingBlobWriter(std::shared_ptr<Stub> stub, const LayerstoreClientOptions& options,
                      std::string ref, std::optional<Digest> expected,
                      std::optional<int64_t> expected_size, int64_t offset, std::string lease)
      : stub_(std::move(stub)),
        options_(options),
        ref_(std::move(ref)),
        lease_(std::move(lease)),
        expected_(std::move(expected)),
        expected_size_(expected_size),
        offset_(offset),
        buffer_offset_(offset) {
    buffer_.reserve(rpc::kChunkSize);
  }

  ~StreamingBlobWriter() override {
    if (state_ == State::kOpen || state_ == State::kFailed) Abort();
    StopSender();
  }

  // Opens the stream and sends the first message (ref and expectations).
  absl::Status Start() {
    SetDeadline(context_, options_.stream_timeout);
    stream_ = stub_->Write(&context_, &response_);
    v1::WriteRequest header;
    header.set_ref(ref_);
    header.set_lease(lease_);
    if (expected_) header.set_expected_digest(expected_->str());
    if (expected_size_) header.set_expected_size(*expected_size_);
    header.set_offset(offset_);
    if (!stream_->Write(header)) return ServerEndedTheCall();
    sender_ = std::thread([this] { SendLoop(); });
    return absl::OkStatus();
  }

  const std::string& ref() const override { return ref_; }
  int64_t offset() const override { return offset_; }

  absl::Status Write(absl::string_view data) override {
    if (state_ == State::kAlreadyStored) return absl::OkStatus();
    RETURN_IF_ERROR(CheckOpen());
    if (broken_.load(std::memory_order_acquire)) return ServerEndedTheCall();
    while (!data.empty()) {
      const size_t take = std::min(rpc::kChunkSize - buffer_.size(), data.size());
      buffer_.append(data.data(), take);
      data.remove_prefix(take);
      offset_ += static_cast<int64_t>(take);
      if (buffer_.size() == rpc::kChunkSize) {
        RETURN_IF_ERROR(Enqueue(/*commit=*/false, /*last=*/false));
        if (state_ == State::kAlreadyStored) return absl::OkStatus();
      }
    }
    return absl::OkStatus();
  }

  absl::Status WriteBuffer(std::string buffer) override {
    if (!buffer_.empty() || buffer.size() < rpc::kChunkSize / 4 ||
        buffer.size() > rpc::kChunkSize) {
      return Write(buffer);
    }
    if (state_ == State::kAlreadyStored) return absl::OkStatus();
    RETURN_IF_ERROR(CheckOpen());
    if (broken_.load(std::memory_order_acquire)) return ServerEndedTheCall();
    // Nothing is buffered, so the buffer is the next chunk as it is.
    offset_ += static_cast<int64_t>(buffer.size());
    buffer_.swap(buffer);
    return Enqueue(/*commit=*/false, /*last=*/false);
  }

  absl::StatusOr<CommitResult> Commit() override {
    if (state_ != State::kAlreadyStored) {
      RETURN_IF_ERROR(CheckOpen());
      if (broken_.load(std::memory_order_acquire)) {
        RETURN_IF_ERROR(ServerEndedTheCall());
      } else {
        RETURN_IF_ERROR(Enqueue(/*commit=*/true, /*last=*/true));
      }
    }
    if (state_ == State::kAlreadyStored) {
      state_ = State::kCommitted;
      return *early_result_;
    }
    StopSender();
    absl::Status status = rpc::FromGrpc(stream_->Finish());
    if (!status.ok()) {
      state_ = State::kFailed;
      final_status_ = status;
      return status;
    }
    absl::StatusOr<CommitResult> result = ToCommitResult(ref_, response_);
    state_ = result.ok() ? State::kCommitted : State::kFailed;
    return result;
  }

  absl::Status Suspend() override {
    if (state_ == State::kAlreadyStored) {
      state_ = State::kCommitted;
      return absl::OkStatus();
    }
    RETURN_IF_ERROR(CheckOpen());
    if (broken_.load(std::memory_order_acquire)) return ServerEndedTheCall();
    RETURN_IF_ERROR(Enqueue(/*commit=*/false, /*last=*/true));
    StopSender();
    absl::Status status = rpc::FromGrpc(stream_->Finish());
    state_ = status.ok() ? State::kSuspended : State::kFailed;
    final_status_ = status;
    return status;
  }

  void Abort() override {
    if (state_ == State::kCommitted || state_ == State::kAborted || state_ == State::kSuspended) {
      return;
    }
    const bool stream_open = state_ == State::kOpen;
    // Refused because another writer holds the ref, or because the upload under the ref
    // expects other bytes: that upload is someone else's, not ours to discard.
    const bool ours = !absl::IsAborted(final_status_) && !absl::IsFailedPrecondition(final_status_);
    state_ = State::kAborted;
    if (stream_open && stream_ != nullptr) {
      // End the stream without commit and wait for the server's answer: only then has the
      // server finished with the upload (made it, or never will), so the AbortWrite below
      // finds it. A cancelled stream ends at once here while the server may still be about
      // to create the upload, after AbortWrite found nothing to discard.
      {
        std::lock_guard<std::mutex> lock(mutex_);
        queue_.clear();  // what was not sent yet is not needed
      }
      buffer_.clear();
      if (!broken_.load(std::memory_order_acquire)) {
        (void)Enqueue(/*commit=*/false, /*last=*/true);
      }
      StopSender();
      stream_->Finish();
    }
    if (!ours) return;
    const absl::Time give_up = absl::Now() + kAbortPatience;
    absl::Duration pause = absl::Milliseconds(5);
    for (;;) {
      grpc::ClientContext context;
      SetDeadline(context, options_.call_timeout);
      v1::AbortWriteRequest request;
      request.set_ref(ref_);
      v1::AbortWriteResponse response;
      const grpc::Status status = stub_->AbortWrite(&context, request, &response);
      if (status.error_code() != grpc::StatusCode::ABORTED || absl::Now() > give_up) return;
      absl::SleepFor(pause);
      pause = std::min(pause * 2, absl::Milliseconds(200));
    }
  }

 private:
  enum class State {
    kOpen,
    kAlreadyStored,  // the server reported the expected digest stored: bytes are dropped
    kCommitted,
    kSuspended,
    kAborted,
    kFailed,
  };

  struct Chunk {
    std::string data;
    int64_t offset = 0;
    bool commit = false;
    bool last = false;  // half-close the stream after this one
  };

  absl::Status CheckOpen() const {
    if (state_ == State::kOpen) return absl::OkStatus();
    if (state_ == State::kFailed && !final_status_.ok()) return final_status_;
    return absl::FailedPreconditionError(
        absl::StrCat(Upload(ref_), ": the writer was committed, suspended or aborted"));
  }

  // Hands buffer_ to the sender, waiting while the queue is full.
  absl::Status Enqueue(bool commit, bool last) {
    Chunk chunk{std::move(buffer_), buffer_offset_, commit, last};
    buffer_offset_ = offset_;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      space_or_break_.wait(lock, [&] {
        return static_cast<int>(queue_.size()) < std::max(options_.max_queued_chunks, 1) ||
               broken_.load(std::memory_order_relaxed);
      });
      if (!broken_.load(std::memory_order_relaxed)) {
        queue_.push_back(std::move(chunk));
        if (!spare_buffers_.empty()) {
          buffer_ = std::move(spare_buffers_.back());
          spare_buffers_.pop_back();
        }
      }
    }
    work_.notify_one();
    if (broken_.load(std::memory_order_acquire)) return ServerEndedTheCall();
    buffer_.clear();
    if (buffer_.capacity() < rpc::kChunkSize) buffer_.reserve(rpc::kChunkSize);
    return absl::OkStatus();
  }

  void SendLoop() {
    v1::WriteRequest request;
    for (;;) {
      Chunk chunk;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        work_.wait(lock, [&] { return !queue_.empty() || stopping_; });
        if (queue_.empty()) return;
        chunk = std::move(queue_.front());
        queue_.pop_front();
      }
      bool ok = !broken_.load(std::memory_order_relaxed);
      if (ok && (!chunk.data.empty() || chunk.commit)) {
        request.set_offset(chunk.offset);
        request.set_commit(chunk.commit);
        request.mutable_data()->swap(chunk.data);  // no copy: the buffer moves in and back
        ok = stream_->Write(request);
        request.mutable_data()->swap(chunk.data);
      }
      if (ok && chunk.last) ok = stream_->WritesDone();
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!ok) broken_.store(true, std::memory_order_release);
        if (static_cast<int>(spare_buffers_.size()) <= options_.max_queued_chunks) {
          spare_buffers_.push_back(std::move(chunk.data));
        }
      }
      space_or_break_.notify_all();
      if (chunk.last) return;
    }
  }

  void StopSender() {
    if (!sender_.joinable()) return;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    work_.notify_all();
    sender_.join();
  }

  // A write failed: the server ended the call, with an error or because the expected digest
  // is stored already. Learns which.
  absl::Status ServerEndedTheCall() {
    // The sender writes nothing once a write failed, so it stops at once. (No TryCancel here:
    // it could replace the server's status, which is what the caller needs.)
    StopSender();
    absl::Status status = rpc::FromGrpc(stream_->Finish());
    if (!status.ok()) {
      state_ = State::kFailed;
      final_status_ = status;
      return status;
    }
    absl::StatusOr<CommitResult> result = ToCommitResult(ref_, response_);
    if (!result.ok()) {
      state_ = State::kFailed;
      final_status_ = result.status();
      return result.status();
    }
    early_result_ = *result;
    state_ = State::kAlreadyStored;
    return absl::OkStatus();
  }

  std::shared_ptr<Stub> stub_;
  const LayerstoreClientOptions options_;
  const std::string ref_;
  const std::string lease_;
  const std::optional<Digest> expected_;
  const std::optional<int64_t> expected_size_;

  grpc::ClientContext context_;  // outlives stream_
  v1::WriteResponse response_;
  std::unique_ptr<grpc::ClientWriter<v1::WriteRequest>> stream_;

  // Producer side.
  State state_ = State::kOpen;
  absl::Status final_status_;
  std::optional<CommitResult> early_result_;
  int64_t offset_;         // next byte Write takes
  int64_t buffer_offset_;  // blob offset of buffer_[0]
  std::string buffer_;

  // Shared with the sender.
  std::mutex mutex_;
  std::condition_variable work_;            // queue_ or stopping_ changed
  std::condition_variable space_or_break_;  // queue_ shrank or broken_ was set
  std::deque<Chunk> queue_;                 // guarded by mutex_
  std::vector<std::string> spare_buffers_;  // guarded by mutex_
  bool stopping_ = false;                   // guarded by mutex_
  std::atomic<bool> broken_{false};         // a stream write failed
  std::thread sender_;
};

}  // namespace

LayerstoreClient::LayerstoreClient(std::shared_ptr<grpc::Channel> channel,
                                   LayerstoreClientOptions options)
    : stub_(v1::LayerStore::NewStub(std::move(channel))), options_(options) {}

LayerstoreClient::~LayerstoreClient() = default;

absl::StatusOr<BlobInfo> LayerstoreClient::Stat(const Digest& digest) {
  grpc::ClientContext context;
  SetDeadline(context, options_.call_timeout);
  v1::StatRequest request;
  request.set_digest(digest.str());
  v1::StatResponse response;
  RETURN_IF_ERROR(rpc::FromGrpc(stub_->Stat(&context, request, &response)));
  return FromProto(response.blob());
}

absl::StatusOr<std::unique_ptr<BlobReader>> LayerstoreClient::OpenReader(const Digest& digest,
                                                                         int64_t offset,
                                                                         int64_t length) {
  v1::ReadRequest request;
  request.set_digest(digest.str());
  request.set_offset(offset);
  request.set_length(length);
  auto reader = std::make_unique<GrpcBlobReader>(stub_, offset);
  RETURN_IF_ERROR(reader->Start(request, options_.stream_timeout));
  return reader;
}

absl::StatusOr<std::unique_ptr<BlobWriter>> LayerstoreClient::OpenWriter(
    const std::string& ref, std::optional<Digest> expected, std::optional<int64_t> expected_size,
    const std::string& lease) {
  if (ref.empty()) return absl::InvalidArgumentError("upload ref is empty");
  int64_t offset = 0;
  absl::StatusOr<UploadStatus> earlier = WriteStatus(ref);
  if (earlier.ok()) {
    offset = earlier->offset;
    // The server would refuse these too, but only once the stream is running.
    if (expected && earlier->expected.digest && *earlier->expected.digest != *expected) {
      return absl::FailedPreconditionError(
          absl::StrCat(Upload(ref), ": resuming with expected digest \"", expected->str(),
                       "\", but the upload expects \"", earlier->expected.digest->str(), "\""));
    }
    if (expected_size && earlier->expected.size && *earlier->expected.size != *expected_size) {
      return absl::FailedPreconditionError(
          absl::StrCat(Upload(ref), ": resuming with expected size ", *expected_size,
                       ", but the upload expects ", *earlier->expected.size));
    }
  } else if (!absl::IsNotFound(earlier.status())) {
    return earlier.status();
  }
  auto writer = std::make_unique<StreamingBlobWriter>(stub_, options_, ref, std::move(expected),
                                                      expected_size, offset, lease);
  RETURN_IF_ERROR(writer->Start());
  return writer;
}

absl::StatusOr<CommitResult> LayerstoreClient::Put(const std::string& ref, absl::string_view data,
                                                   std::optional<Digest> expected,
                                                   const std::string& lease) {
  const int64_t size = static_cast<int64_t>(data.size());
  absl::StatusOr<std::unique_ptr<BlobWriter>> writer = OpenWriter(ref, expected, size, lease);
  if (absl::IsFailedPrecondition(writer.status()) || (writer.ok() && (*writer)->offset() > size)) {
    // An upload of other bytes was left under this ref: start over.
    if (writer.ok()) (*writer)->Abort();
    absl::Status discarded = AbortWrite(ref);
    if (!discarded.ok() && !absl::IsNotFound(discarded)) return discarded;
    writer = OpenWriter(ref, expected, size, lease);
  }
  if (!writer.ok()) return writer.status();
  RETURN_IF_ERROR((*writer)->Write(data.substr(static_cast<size_t>((*writer)->offset()))));
  return (*writer)->Commit();
}

absl::StatusOr<std::string> LayerstoreClient::ReadAll(const Digest& digest, int64_t max_size) {
  ASSIGN_OR_RETURN(std::unique_ptr<BlobReader> reader, OpenReader(digest));
  std::string contents;
  for (;;) {
    ASSIGN_OR_RETURN(absl::string_view chunk, reader->Next());
    if (chunk.empty()) return contents;
    if (static_cast<int64_t>(contents.size() + chunk.size()) > max_size) {
      return absl::ResourceExhaustedError(absl::StrCat("blob \"", digest.str(), "\": larger than ",
                                                       max_size,
                                                       " bytes, too large to read whole"));
    }
    contents.append(chunk.data(), chunk.size());
  }
}

absl::StatusOr<UploadStatus> LayerstoreClient::WriteStatus(const std::string& ref) {
  grpc::ClientContext context;
  SetDeadline(context, options_.call_timeout);
  v1::WriteStatusRequest request;
  request.set_ref(ref);
  v1::WriteStatusResponse response;
  RETURN_IF_ERROR(rpc::FromGrpc(stub_->WriteStatus(&context, request, &response)));
  UploadStatus status;
  status.ref = response.ref();
  status.offset = response.offset();
  if (!response.expected_digest().empty()) {
    absl::StatusOr<Digest> digest = Digest::Parse(response.expected_digest());
    if (!digest.ok()) {
      return absl::DataLossError(absl::StrCat("the layerstore answered with a malformed digest: ",
                                              digest.status().message()));
    }
    status.expected.digest = *digest;
  }
  if (response.has_expected_size()) status.expected.size = response.expected_size();
  status.started = FromTimestamp(response.started());
  status.updated = FromTimestamp(response.updated());
  return status;
}

absl::Status LayerstoreClient::AbortWrite(const std::string& ref) {
  grpc::ClientContext context;
  SetDeadline(context, options_.call_timeout);
  v1::AbortWriteRequest request;
  request.set_ref(ref);
  v1::AbortWriteResponse response;
  return rpc::FromGrpc(stub_->AbortWrite(&context, request, &response));
}

absl::Status LayerstoreClient::Delete(const Digest& digest) {
  grpc::ClientContext context;
  SetDeadline(context, options_.call_timeout);
  v1::DeleteRequest request;
  request.set_digest(digest.str());
  v1::DeleteResponse response;
  return rpc::FromGrpc(stub_->Delete(&context, request, &response));
}

absl::StatusOr<BlobListing> LayerstoreClient::List(int page_size, const std::string& page_token) {
  grpc::ClientContext context;
  SetDeadline(context, options_.call_timeout);
  v1::ListRequest request;
  request.set_page_size(page_size);
  request.set_page_token(page_token);
  v1::ListResponse response;
  RETURN_IF_ERROR(rpc::FromGrpc(stub_->List(&context, request, &response)));
  BlobListing listing;
  listing.next_page_token = response.next_page_token();
  for (const v1::BlobInfo& blob : response.blobs()) {
    ASSIGN_OR_RETURN(BlobInfo info, FromProto(blob));
    listing.blobs.push_back(std::move(info));
  }
  return listing;
}

absl::StatusOr<std::vector<BlobInfo>> LayerstoreClient::ListAll() {
  std::vector<BlobInfo> all;
  std::string token;
  do {
    ASSIGN_OR_RETURN(BlobListing page, List(0, token));
    for (BlobInfo& blob : page.blobs) all.push_back(std::move(blob));
    token = std::move(page.next_page_token);
  } while (!token.empty());
  return all;
}

absl::StatusOr<ScrubReport> LayerstoreClient::Check(
    const std::function<void(const ScrubReport&)>& on_progress) {
  grpc::ClientContext context;
  SetDeadline(context, options_.stream_timeout);
  std::unique_ptr<grpc::ClientReader<v1::CheckResponse>> stream =
      stub_->Check(&context, v1::CheckRequest());
  v1::CheckResponse response;
  ScrubReport report;
  bool done = false;
  while (stream->Read(&response)) {
    report.blobs_checked = response.blobs_checked();
    report.bytes_checked = response.bytes_checked();
    if (!response.done()) {
      if (on_progress) on_progress(report);
      continue;
    }
    done = true;
    for (const v1::DamagedBlob& blob : response.damaged()) {
      absl::StatusOr<Digest> digest = Digest::Parse(blob.digest());
      if (!digest.ok()) {
        return absl::DataLossError(absl::StrCat("the layerstore answered with a malformed digest: ",
                                                digest.status().message()));
      }
      report.damaged.push_back(DamagedBlob{*digest, blob.size(), blob.reason(),
                                           blob.quarantined_to(), blob.quarantine_error()});
    }
  }
  RETURN_IF_ERROR(rpc::FromGrpc(stream->Finish()));
  if (!done) return absl::InternalError("the layerstore ended the check without its result");
  return report;
}

namespace {

absl::Time FromProtoTime(const google::protobuf::Timestamp& time) {
  return absl::FromUnixSeconds(time.seconds()) + absl::Nanoseconds(time.nanos());
}

LeaseInfo FromProtoLease(const v1::Lease& lease) {
  LeaseInfo info;
  info.id = lease.id();
  info.created = FromProtoTime(lease.created());
  info.expires = FromProtoTime(lease.expires());
  info.digests.assign(lease.digests().begin(), lease.digests().end());
  info.uploads.assign(lease.uploads().begin(), lease.uploads().end());
  return info;
}

int64_t TtlSeconds(absl::Duration ttl) {
  return std::max<int64_t>(1, absl::ToInt64Seconds(absl::Ceil(ttl, absl::Seconds(1))));
}

}  // namespace

absl::StatusOr<LeaseInfo> LayerstoreClient::CreateLease(absl::Duration ttl) {
  grpc::ClientContext context;
  SetDeadline(context, options_.call_timeout);
  v1::CreateLeaseRequest request;
  request.set_ttl_seconds(TtlSeconds(ttl));
  v1::CreateLeaseResponse response;
  RETURN_IF_ERROR(rpc::FromGrpc(stub_->CreateLease(&context, request, &response)));
  return FromProtoLease(response.lease());
}

absl::StatusOr<LeaseInfo> LayerstoreClient::RenewLease(const std::string& id,
                                                       absl::Duration ttl) {
  grpc::ClientContext context;
  SetDeadline(context, options_.call_timeout);
  v1::RenewLeaseRequest request;
  request.set_id(id);
  request.set_ttl_seconds(TtlSeconds(ttl));
  v1::RenewLeaseResponse response;
  RETURN_IF_ERROR(rpc::FromGrpc(stub_->RenewLease(&context, request, &response)));
  return FromProtoLease(response.lease());
}

absl::Status LayerstoreClient::DeleteLease(const std::string& id) {
  grpc::ClientContext context;
  SetDeadline(context, options_.call_timeout);
  v1::DeleteLeaseRequest request;
  request.set_id(id);
  v1::DeleteLeaseResponse response;
  return rpc::FromGrpc(stub_->DeleteLease(&context, request, &response));
}

absl::StatusOr<std::vector<LeaseInfo>> LayerstoreClient::ListLeases() {
  grpc::ClientContext context;
  SetDeadline(context, options_.call_timeout);
  v1::ListLeasesResponse response;
  RETURN_IF_ERROR(rpc::FromGrpc(stub_->ListLeases(&context, v1::ListLeasesRequest(), &response)));
  std::vector<LeaseInfo> leases;
  for (const v1::Lease& lease : response.leases()) leases.push_back(FromProtoLease(lease));
  return leases;
}

absl::StatusOr<GcReport> LayerstoreClient::CollectGarbage(bool dry_run,
                                                          absl::Duration upload_grace) {
  grpc::ClientContext context;
  SetDeadline(context, options_.stream_timeout);
  v1::CollectGarbageRequest request;
  request.set_dry_run(dry_run);
  request.set_upload_grace_seconds(absl::ToInt64Seconds(upload_grace));
  v1::CollectGarbageResponse response;
  RETURN_IF_ERROR(rpc::FromGrpc(stub_->CollectGarbage(&context, request, &response)));
  GcReport report;
  report.dry_run = dry_run;
  report.blobs_scanned = response.blobs_scanned();
  report.kept_referenced = response.kept_referenced();
  report.kept_leased = response.kept_leased();
  report.kept_recent = response.kept_recent();
  for (const v1::BlobInfo& blob : response.removed()) {
    ASSIGN_OR_RETURN(BlobInfo info, FromProto(blob));
    report.removed.push_back(std::move(info));
  }
  report.bytes_removed = response.bytes_removed();
  report.uploads_removed = response.uploads_removed();
  report.leases_expired = response.leases_expired();
  return report;
}

absl::StatusOr<std::unique_ptr<LeaseHolder>> LeaseHolder::Take(LayerstoreClient* client,
                                                               absl::Duration ttl) {
  absl::StatusOr<LeaseInfo> lease = client->CreateLease(ttl);
  if (absl::IsUnimplemented(lease.status())) {
    return std::unique_ptr<LeaseHolder>(new LeaseHolder(client, "", ttl));
  }
  RETURN_IF_ERROR(lease.status());
  return std::unique_ptr<LeaseHolder>(new LeaseHolder(client, lease->id, ttl));
}

LeaseHolder::LeaseHolder(LayerstoreClient* client, std::string id, absl::Duration ttl)
    : client_(client), id_(std::move(id)), ttl_(ttl) {
  if (!id_.empty()) renewer_ = std::thread([this] { RenewLoop(); });
}

LeaseHolder::~LeaseHolder() { (void)Release(); }

void LeaseHolder::RenewLoop() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    wake_.wait_for(lock, absl::ToChronoMilliseconds(ttl_ / 3), [this] { return stopping_; });
    if (stopping_) return;
    lock.unlock();
    absl::StatusOr<LeaseInfo> renewed = client_->RenewLease(id_, ttl_);
    lock.lock();
    if (absl::IsNotFound(renewed.status())) {
      lost_ = absl::AbortedError(absl::StrCat(
          "lease ", id_, " expired while writing (", renewed.status().message(),
          "): what was written may have been collected; run it again"));
      return;
    }
    // Other failures (a replica restarting): try again at the next tick, well before expiry.
  }
}

void LeaseHolder::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (renewer_.joinable()) renewer_.join();
}

absl::Status LeaseHolder::Check() {
  std::lock_guard<std::mutex> lock(mutex_);
  return lost_;
}

absl::Status LeaseHolder::Release() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return absl::OkStatus();
  }
  Stop();
  if (id_.empty()) return absl::OkStatus();
  absl::Status deleted = client_->DeleteLease(id_);
  if (absl::IsNotFound(deleted)) return absl::OkStatus();  // expired: nothing to release
  return deleted;
}

}  // namespace strata::layerstore
