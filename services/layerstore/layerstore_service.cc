#include "services/layerstore/layerstore_service.h"

#include <algorithm>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "lib/base/errors.h"
#include "lib/digest/digest.h"
#include "lib/rpc/limits.h"
#include "lib/rpc/status.h"
#include "services/layerstore/core/blob_verify.h"

namespace strata::layerstore {
namespace {

constexpr int kDefaultPageSize = 1000;
constexpr int kMaxPageSize = 10000;

void SetTimestamp(absl::Time time, google::protobuf::Timestamp* timestamp) {
  const int64_t seconds = absl::ToUnixSeconds(time);
  timestamp->set_seconds(seconds);
  timestamp->set_nanos(
      static_cast<int32_t>((time - absl::FromUnixSeconds(seconds)) / absl::Nanoseconds(1)));
}

void SetBlobInfo(const BlobInfo& info, v1::BlobInfo* out) {
  out->set_digest(info.digest.str());
  out->set_size(info.size);
  SetTimestamp(info.created, out->mutable_created());
}

// Every digest that reaches the store goes through here.
absl::StatusOr<Digest> ParseDigest(absl::string_view field, const std::string& text) {
  absl::StatusOr<Digest> digest = Digest::Parse(text);
  if (!digest.ok()) return Annotate(digest.status(), field);
  return digest;
}

}  // namespace

grpc::Status LayerStoreService::Stat(grpc::ServerContext* /*context*/,
                                     const v1::StatRequest* request, v1::StatResponse* response) {
  absl::Status status = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(Digest digest, ParseDigest("stat", request->digest()));
    ASSIGN_OR_RETURN(BlobInfo info, store_->Stat(digest));
    SetBlobInfo(info, response->mutable_blob());
    return absl::OkStatus();
  }();
  return rpc::ToGrpc(status);
}

grpc::Status LayerStoreService::Read(grpc::ServerContext* context, const v1::ReadRequest* request,
                                     grpc::ServerWriter<v1::ReadResponse>* writer) {
  return rpc::ToGrpc(DoRead(context, *request, writer));
}

absl::Status LayerStoreService::DoRead(grpc::ServerContext* context, const v1::ReadRequest& request,
                                       grpc::ServerWriter<v1::ReadResponse>* writer) {
  ASSIGN_OR_RETURN(Digest digest, ParseDigest("read", request.digest()));
  ASSIGN_OR_RETURN(std::unique_ptr<BlobRangeReader> reader,
                   store_->OpenReader(digest, request.offset(), request.length()));
  // One response and one buffer for the whole stream: the blob is read straight into the
  // message's bytes field, which keeps its capacity from chunk to chunk.
  v1::ReadResponse response;
  std::string* data = response.mutable_data();
  while (reader->remaining() > 0) {
    if (context->IsCancelled()) {
      return absl::CancelledError(absl::StrCat("read of blob \"", digest.str(),
                                               "\": cancelled by the client or its deadline"));
    }
    const int64_t position = reader->position();
    data->resize(static_cast<size_t>(std::min<int64_t>(reader->remaining(), rpc::kChunkSize)));
    ASSIGN_OR_RETURN(size_t n, reader->Read(data->data(), data->size()));
    data->resize(n);
    response.set_offset(position);
    if (!writer->Write(response)) {
      return absl::CancelledError(
          absl::StrCat("read of blob \"", digest.str(), "\": the client went away"));
    }
  }
  return absl::OkStatus();
}

grpc::Status LayerStoreService::Write(grpc::ServerContext* context,
                                      grpc::ServerReader<v1::WriteRequest>* reader,
                                      v1::WriteResponse* response) {
  return rpc::ToGrpc(DoWrite(context, reader, response));
}

absl::Status LayerStoreService::DoWrite(grpc::ServerContext* context,
                                        grpc::ServerReader<v1::WriteRequest>* reader,
                                        v1::WriteResponse* response) {
  v1::WriteRequest request;
  if (!reader->Read(&request)) {
    return absl::InvalidArgumentError(
        "write: the stream ended before its first message, which must name the ref");
  }
  if (request.ref().empty()) {
    return absl::InvalidArgumentError("write: the first message must name the upload's ref");
  }
  const std::string ref = request.ref();
  const std::string lease = request.lease();
  if (!lease.empty()) {
    if (leases_ == nullptr) {
      return absl::FailedPreconditionError(
          "write: this layerstore keeps no leases (s3 backend): write without one");
    }
    absl::Status added = leases_->AddUpload(lease, ref);
    if (absl::IsNotFound(added)) {
      return absl::FailedPreconditionError(
          absl::StrCat("write: ", added.message(), ": take a new lease"));
    }
    RETURN_IF_ERROR(added);
  }
  UploadExpectations expected;
  if (!request.expected_digest().empty()) {
    ASSIGN_OR_RETURN(expected.digest,
                     ParseDigest("write: expected_digest", request.expected_digest()));
  }
  if (request.has_expected_size()) {
    if (request.expected_size() < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("write: negative expected_size ", request.expected_size()));
    }
    expected.size = request.expected_size();
  }

  // The expected blob is protected before anything can find it stored.
  if (expected.digest && !lease.empty()) {
    RETURN_IF_ERROR(leases_->AddBlob(lease, *expected.digest));
  }
  absl::StatusOr<std::unique_ptr<IngestWriter>> opened = store_->OpenWriter(ref, expected);
  if (absl::IsAlreadyExists(opened.status())) {
    // Stored already: nothing needs to be sent. Ending the call now tells the client so.
    absl::Status protect = Protect(lease, *expected.digest);
    if (absl::IsNotFound(protect)) {
      return absl::AbortedError(absl::StrCat("write: blob \"", expected.digest->str(),
                                             "\" was collected while the upload started; retry"));
    }
    RETURN_IF_ERROR(protect);
    absl::StatusOr<BlobInfo> stored = store_->Stat(*expected.digest);
    if (absl::IsNotFound(stored.status())) {
      return absl::AbortedError(absl::StrCat("write: blob \"", expected.digest->str(),
                                             "\" was deleted while the upload started; retry"));
    }
    RETURN_IF_ERROR(stored.status());
    response->set_offset(stored->size);
    SetBlobInfo(*stored, response->mutable_blob());
    response->set_already_existed(true);
    response->set_committed(true);
    return absl::OkStatus();
  }
  RETURN_IF_ERROR(opened.status());
  IngestWriter& writer = **opened;

  for (;;) {
    if (request.data().size() > kMaxWriteChunkSize) {
      return absl::InvalidArgumentError(
          absl::StrCat("write of upload \"", absl::CHexEscape(ref), "\": a chunk of ",
                       request.data().size(), " bytes is over the limit of ", kMaxWriteChunkSize));
    }
    if (!request.data().empty()) {
      // The chunk moves into the writer, which hashes and stores it from this very buffer.
      RETURN_IF_ERROR(writer.Write(request.offset(), std::move(*request.mutable_data())));
    }
    if (request.commit()) {
      if (context->IsCancelled()) {
        return absl::CancelledError(absl::StrCat("write of upload \"", absl::CHexEscape(ref),
                                                 "\": cancelled before commit; resumable"));
      }
      ASSIGN_OR_RETURN(CommitResult result, writer.Commit());
      absl::Status protect = Protect(lease, result.digest);
      if (absl::IsNotFound(protect)) {
        return absl::AbortedError(absl::StrCat("write of upload \"", absl::CHexEscape(ref),
                                               "\": blob \"", result.digest.str(),
                                               "\" was collected as it was committed; write "
                                               "it again"));
      }
      RETURN_IF_ERROR(protect);
      response->set_offset(result.size);
      SetBlobInfo(BlobInfo{result.digest, result.size, result.created}, response->mutable_blob());
      response->set_already_existed(result.already_existed);
      response->set_committed(true);
      return absl::OkStatus();
    }
    if (!reader->Read(&request)) break;
  }
  if (context->IsCancelled()) {
    return absl::CancelledError(absl::StrCat("write of upload \"", absl::CHexEscape(ref),
                                             "\": cancelled by the client or its deadline at ",
                                             writer.offset(), " bytes; resumable"));
  }
  // Ended without commit: the upload stays, to be resumed from this offset.
  response->set_offset(writer.offset());
  return absl::OkStatus();
}

grpc::Status LayerStoreService::WriteStatus(grpc::ServerContext* /*context*/,
                                            const v1::WriteStatusRequest* request,
                                            v1::WriteStatusResponse* response) {
  absl::Status status = [&]() -> absl::Status {
    if (request->ref().empty()) return absl::InvalidArgumentError("write status: empty ref");
    ASSIGN_OR_RETURN(UploadStatus upload, store_->GetUploadStatus(request->ref()));
    response->set_ref(upload.ref);
    response->set_offset(upload.offset);
    if (upload.expected.digest) response->set_expected_digest(upload.expected.digest->str());
    if (upload.expected.size) response->set_expected_size(*upload.expected.size);
    SetTimestamp(upload.started, response->mutable_started());
    SetTimestamp(upload.updated, response->mutable_updated());
    return absl::OkStatus();
  }();
  return rpc::ToGrpc(status);
}

grpc::Status LayerStoreService::AbortWrite(grpc::ServerContext* /*context*/,
                                           const v1::AbortWriteRequest* request,
                                           v1::AbortWriteResponse* /*response*/) {
  if (request->ref().empty()) {
    return rpc::ToGrpc(absl::InvalidArgumentError("abort write: empty ref"));
  }
  return rpc::ToGrpc(store_->AbortUpload(request->ref()));
}

grpc::Status LayerStoreService::Delete(grpc::ServerContext* /*context*/,
                                       const v1::DeleteRequest* request,
                                       v1::DeleteResponse* /*response*/) {
  absl::Status status = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(Digest digest, ParseDigest("delete", request->digest()));
    return store_->Delete(digest);
  }();
  return rpc::ToGrpc(status);
}

grpc::Status LayerStoreService::List(grpc::ServerContext* /*context*/,
                                     const v1::ListRequest* request, v1::ListResponse* response) {
  return rpc::ToGrpc(DoList(*request, response));
}

absl::Status LayerStoreService::DoList(const v1::ListRequest& request, v1::ListResponse* response) {
  if (request.page_size() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("list: negative page_size ", request.page_size()));
  }
  const int page_size =
      request.page_size() == 0 ? kDefaultPageSize : std::min(request.page_size(), kMaxPageSize);
  std::optional<Digest> after;
  if (!request.page_token().empty()) {
    absl::StatusOr<Digest> token = Digest::Parse(request.page_token());
    if (!token.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("list: malformed page_token (", token.status().message(), ")"));
    }
    after = *token;
  }
  ASSIGN_OR_RETURN(BlobPage page, store_->List(after, page_size));
  for (const BlobInfo& blob : page.blobs) SetBlobInfo(blob, response->add_blobs());
  if (page.more && !page.blobs.empty()) {
    response->set_next_page_token(page.blobs.back().digest.str());
  }
  return absl::OkStatus();
}

grpc::Status LayerStoreService::Check(grpc::ServerContext* context,
                                      const v1::CheckRequest* /*request*/,
                                      grpc::ServerWriter<v1::CheckResponse>* writer) {
  absl::Time last_progress = absl::Now();
  absl::StatusOr<ScrubReport> report =
      ScrubBlobs(*store_, [&](const ScrubReport& so_far) -> absl::Status {
        if (context->IsCancelled()) {
          return absl::CancelledError(absl::StrCat("check: cancelled by the client after ",
                                                   so_far.blobs_checked, " blobs"));
        }
        if (absl::Now() - last_progress < absl::Seconds(1)) return absl::OkStatus();
        last_progress = absl::Now();
        v1::CheckResponse progress;
        progress.set_blobs_checked(so_far.blobs_checked);
        progress.set_bytes_checked(so_far.bytes_checked);
        if (!writer->Write(progress)) {
          return absl::CancelledError("check: the client went away");
        }
        return absl::OkStatus();
      });
  if (!report.ok()) return rpc::ToGrpc(report.status());
  v1::CheckResponse done;
  done.set_blobs_checked(report->blobs_checked);
  done.set_bytes_checked(report->bytes_checked);
  done.set_done(true);
  for (const DamagedBlob& damaged : report->damaged) {
    v1::DamagedBlob* out = done.add_damaged();
    out->set_digest(damaged.digest.str());
    out->set_size(damaged.size);
    out->set_reason(damaged.reason);
    out->set_quarantined_to(damaged.quarantined_to);
    out->set_quarantine_error(damaged.quarantine_error);
  }
  writer->Write(done);
  return grpc::Status::OK;
}

absl::Status LayerStoreService::Protect(const std::string& lease, const Digest& digest) {
  if (!lease.empty()) RETURN_IF_ERROR(leases_->AddBlob(lease, digest));
  // Touched with or without a lease: a deduplicated write then counts as recent use.
  if (!store_->SupportsGarbageCollection()) return absl::OkStatus();
  return store_->Touch(digest);
}

absl::StatusOr<LeaseStore*> LayerStoreService::Leases() {
  if (leases_ == nullptr) {
    return absl::UnimplementedError(
        "leases: this layerstore backend (s3) keeps no leases; write without one");
  }
  return leases_;
}

namespace {

void SetLease(const Lease& lease, v1::Lease* out) {
  out->set_id(lease.id);
  SetTimestamp(lease.created, out->mutable_created());
  SetTimestamp(lease.expires, out->mutable_expires());
  for (const Digest& digest : lease.blobs) out->add_digests(digest.str());
  for (const std::string& upload : lease.uploads) out->add_uploads(upload);
}

absl::Status CheckTtl(int64_t seconds) {
  if (seconds < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("lease: ttl_seconds ", seconds, " is below 1"));
  }
  return absl::OkStatus();
}

}  // namespace

grpc::Status LayerStoreService::CreateLease(grpc::ServerContext* /*context*/,
                                            const v1::CreateLeaseRequest* request,
                                            v1::CreateLeaseResponse* response) {
  absl::Status status = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(LeaseStore * leases, Leases());
    RETURN_IF_ERROR(CheckTtl(request->ttl_seconds()));
    ASSIGN_OR_RETURN(Lease lease, leases->Create(absl::Seconds(request->ttl_seconds())));
    SetLease(lease, response->mutable_lease());
    return absl::OkStatus();
  }();
  return rpc::ToGrpc(status);
}

grpc::Status LayerStoreService::RenewLease(grpc::ServerContext* /*context*/,
                                           const v1::RenewLeaseRequest* request,
                                           v1::RenewLeaseResponse* response) {
  absl::Status status = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(LeaseStore * leases, Leases());
    RETURN_IF_ERROR(CheckTtl(request->ttl_seconds()));
    ASSIGN_OR_RETURN(Lease lease,
                     leases->Renew(request->id(), absl::Seconds(request->ttl_seconds())));
    SetLease(lease, response->mutable_lease());
    return absl::OkStatus();
  }();
  return rpc::ToGrpc(status);
}

grpc::Status LayerStoreService::DeleteLease(grpc::ServerContext* /*context*/,
                                            const v1::DeleteLeaseRequest* request,
                                            v1::DeleteLeaseResponse* /*response*/) {
  absl::Status status = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(LeaseStore * leases, Leases());
    return leases->Delete(request->id());
  }();
  return rpc::ToGrpc(status);
}

grpc::Status LayerStoreService::ListLeases(grpc::ServerContext* /*context*/,
                                           const v1::ListLeasesRequest* /*request*/,
                                           v1::ListLeasesResponse* response) {
  absl::Status status = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(LeaseStore * leases, Leases());
    ASSIGN_OR_RETURN(std::vector<Lease> live, leases->ListLive(absl::Now()));
    for (const Lease& lease : live) SetLease(lease, response->add_leases());
    return absl::OkStatus();
  }();
  return rpc::ToGrpc(status);
}

grpc::Status LayerStoreService::CollectGarbage(grpc::ServerContext* /*context*/,
                                               const v1::CollectGarbageRequest* request,
                                               v1::CollectGarbageResponse* response) {
  absl::Status status = [&]() -> absl::Status {
    if (!store_->SupportsGarbageCollection() || leases_ == nullptr) {
      return absl::FailedPreconditionError(
          "collect garbage: not supported on this layerstore backend (s3): it cannot delete a "
          "blob only if no writer used it meanwhile; the fs backend can");
    }
    if (!referenced_) {
      return absl::FailedPreconditionError(
          "collect garbage: this layerstore was started without --gc-imagegraph, so it cannot "
          "tell which blobs images need");
    }
    if (request->upload_grace_seconds() < 0) {
      return absl::InvalidArgumentError("collect garbage: negative upload_grace_seconds");
    }
    GcOptions options = gc_defaults_;
    options.dry_run = request->dry_run();
    if (request->upload_grace_seconds() > 0) {
      options.upload_grace = absl::Seconds(request->upload_grace_seconds());
    }
    ASSIGN_OR_RETURN(GcReport report,
                     layerstore::CollectGarbage(*store_, *leases_, referenced_, options));
    response->set_blobs_scanned(report.blobs_scanned);
    response->set_kept_referenced(report.kept_referenced);
    response->set_kept_leased(report.kept_leased);
    response->set_kept_recent(report.kept_recent);
    for (const BlobInfo& blob : report.removed) SetBlobInfo(blob, response->add_removed());
    response->set_bytes_removed(report.bytes_removed);
    response->set_uploads_removed(report.uploads_removed);
    response->set_leases_expired(report.leases_expired);
    return absl::OkStatus();
  }();
  return rpc::ToGrpc(status);
}

}  // namespace strata::layerstore
