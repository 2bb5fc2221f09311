#include "services/layerstore/core/s3_blob_store.h"

#include <sys/random.h>

#include <mutex>
#include <set>
#include <unordered_set>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "lib/base/errors.h"
#include "lib/base/log.h"
#include "services/layerstore/core/blob_verify.h"
#include "services/layerstore/core/s3_internal.h"

namespace strata::layerstore {
namespace {

std::string QuoteRef(absl::string_view ref) {
  std::string quoted = absl::StrCat("\"", absl::CHexEscape(ref.substr(0, 100)));
  if (ref.size() > 100) quoted += "...";
  return quoted + "\"";
}

absl::Status ValidateRef(const std::string& ref) {
  if (ref.empty()) return absl::InvalidArgumentError("upload ref is empty");
  if (ref.size() > kMaxRefLength) {
    return absl::InvalidArgumentError(absl::StrCat(S3UploadName(ref), ": ref is ", ref.size(),
                                                   " bytes long, at most ", kMaxRefLength,
                                                   " are allowed"));
  }
  return absl::OkStatus();
}

absl::Status BlobNotFound(const Digest& digest) {
  return absl::NotFoundError(absl::StrCat("blob \"", digest.str(), "\": not found"));
}

absl::Status UploadNotFound(const std::string& ref) {
  return absl::NotFoundError(absl::StrCat(S3UploadName(ref), ": not found"));
}

std::string RandomHex() {
  unsigned char bytes[16];
  size_t got = 0;
  while (got < sizeof(bytes)) {
    ssize_t n = ::getrandom(bytes + got, sizeof(bytes) - got, 0);
    if (n > 0) got += static_cast<size_t>(n);
  }
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(bytes), sizeof(bytes)));
}

bool LeaseHeldByOther(const S3UploadState& state, const std::string& holder) {
  return !state.holder.empty() && state.holder != holder && state.lease_until > absl::Now();
}

absl::Status Busy(const std::string& ref) {
  return absl::AbortedError(
      absl::StrCat(S3UploadName(ref), ": another writer is writing it right now; retry later"));
}

// Refs held by writers of this process, over every S3BlobStore of it (replicas in one
// process, as tests open them, share it too).
std::mutex held_mutex;
std::set<std::string>& HeldRefs() {
  static auto* held = new std::set<std::string>();
  return *held;
}

}  // namespace

std::string S3UploadName(absl::string_view ref) { return absl::StrCat("upload ", QuoteRef(ref)); }

S3BlobStore::S3BlobStore(std::unique_ptr<s3::S3Client> client, const Options& options)
    : client_(std::move(client)), options_(options) {}

absl::StatusOr<std::unique_ptr<S3BlobStore>> S3BlobStore::Open(std::unique_ptr<s3::S3Client> client,
                                                               const Options& options) {
  if (options.part_size < (1 << 20)) {
    return absl::InvalidArgumentError(
        absl::StrCat("S3 part size ", options.part_size, " is below 1 MiB"));
  }
  RETURN_IF_ERROR(client->CheckBucket());
  return std::unique_ptr<S3BlobStore>(new S3BlobStore(std::move(client), options));
}

std::string S3BlobStore::BlobKey(const Digest& digest) const {
  return absl::StrCat(options_.prefix, "blobs/sha256/", digest.hex());
}

std::string S3BlobStore::UploadPrefix(const std::string& ref) const {
  return absl::StrCat(options_.prefix, "uploads/", Digest::Of(ref).hex(), "/");
}

std::string S3BlobStore::HoldKey(const std::string& ref) const {
  return absl::StrCat(client_->config().endpoint, "\n", client_->config().bucket, "\n",
                      UploadPrefix(ref));
}

bool S3BlobStore::HoldRef(const std::string& ref) {
  std::lock_guard<std::mutex> lock(held_mutex);
  return HeldRefs().insert(HoldKey(ref)).second;
}

void S3BlobStore::ReleaseRef(const std::string& ref) {
  std::lock_guard<std::mutex> lock(held_mutex);
  HeldRefs().erase(HoldKey(ref));
}

absl::StatusOr<S3UploadState> S3BlobStore::ReadState(const std::string& ref) {
  absl::StatusOr<std::string> text = client_->GetSmall(UploadPrefix(ref) + "state", 1 << 20);
  if (absl::IsNotFound(text.status())) return UploadNotFound(ref);
  if (!text.ok()) return text.status();
  absl::StatusOr<S3UploadState> state = DecodeUploadState(*text);
  if (!state.ok()) {
    STRATA_LOG(WARNING) << S3UploadName(ref) << ": " << state.status().message();
    return UploadNotFound(ref);
  }
  if (state->ref != ref) {
    return absl::InternalError(absl::StrCat(S3UploadName(ref), ": state object ", UploadPrefix(ref),
                                            "state belongs to upload ", QuoteRef(state->ref)));
  }
  return state;
}

absl::Status S3BlobStore::WriteState(const S3UploadState& state) {
  return client_->Put(UploadPrefix(state.ref) + "state", EncodeUploadState(state));
}

absl::Status S3BlobStore::TakeLease(S3UploadState& state, const std::string& holder) {
  if (LeaseHeldByOther(state, holder)) return Busy(state.ref);
  state.holder = holder;
  state.lease_until = absl::Now() + options_.lease_ttl;
  RETURN_IF_ERROR(WriteState(state));
  // No conditional PUT: a replica that read the same free lease may write just after us.
  // Last writer wins; reading back after a moment tells who that was.
  absl::SleepFor(options_.lease_settle);
  ASSIGN_OR_RETURN(S3UploadState now, ReadState(state.ref));
  if (now.holder != holder) return Busy(state.ref);
  return absl::OkStatus();
}

absl::Status S3BlobStore::RemoveUpload(const S3UploadState& state) {
  const std::string prefix = UploadPrefix(state.ref);
  if (!state.upload_id.empty()) {
    RETURN_IF_ERROR(client_->AbortMultipartUpload(state.mpu_key, state.upload_id));
  }
  RETURN_IF_ERROR(client_->Delete(prefix + "tail"));
  RETURN_IF_ERROR(client_->Delete(prefix + "data"));
  // The state goes last: until then the upload exists and can be removed again.
  return client_->Delete(prefix + "state");
}

absl::StatusOr<BlobInfo> S3BlobStore::Stat(const Digest& digest) {
  absl::StatusOr<s3::ObjectInfo> info = client_->Head(BlobKey(digest));
  if (absl::IsNotFound(info.status())) return BlobNotFound(digest);
  if (!info.ok()) return info.status();
  return BlobInfo{digest, info->size, info->last_modified};
}

absl::StatusOr<std::unique_ptr<BlobRangeReader>> S3BlobStore::OpenReader(const Digest& digest,
                                                                         int64_t offset,
                                                                         int64_t length) {
  const std::string what = absl::StrCat("read of blob \"", digest.str(), "\"");
  if (offset < 0) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": negative offset ", offset));
  }
  if (length < 0) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": negative length ", length));
  }
  const std::string key = BlobKey(digest);
  absl::StatusOr<s3::ObjectInfo> object = client_->Head(key);
  if (absl::IsNotFound(object.status())) return BlobNotFound(digest);
  if (!object.ok()) return object.status();
  const int64_t size = object->size;
  if (offset > size) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": offset ", offset, " is past the end (size ", size, ")"));
  }
  const int64_t end = (length == 0 || length > size - offset) ? size : offset + length;
  std::unique_ptr<BlobRangeReader> reader = MakeS3RangeReader(
      client_.get(), key, BlobInfo{digest, size, object->last_modified}, object->etag, offset, end);
  if (offset == 0 && end == size) return VerifyingReader(std::move(reader));
  return reader;
}

absl::Status S3BlobStore::CheckStoredCopy(const Digest& digest, const std::string& ref) {
  absl::Status verified = VerifyBlob(*this, digest);
  if (!absl::IsDataLoss(verified)) return verified;
  STRATA_LOG(WARNING) << S3UploadName(ref) << ": replaces a damaged copy: " << verified.message();
  absl::StatusOr<std::string> moved = Quarantine(digest);
  if (!moved.ok() && !absl::IsNotFound(moved.status())) return moved.status();
  return BlobNotFound(digest);
}

absl::StatusOr<std::unique_ptr<IngestWriter>> S3BlobStore::OpenWriter(
    const std::string& ref, const UploadExpectations& expected) {
  RETURN_IF_ERROR(ValidateRef(ref));
  if (expected.size && *expected.size < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(S3UploadName(ref), ": negative expected size ", *expected.size));
  }
  if (expected.digest) {
    absl::StatusOr<BlobInfo> stored = Stat(*expected.digest);
    if (stored.ok()) {
      absl::Status sound = CheckStoredCopy(*expected.digest, ref);
      if (absl::IsNotFound(sound)) {
        stored = sound;
      } else if (!sound.ok()) {
        return sound;
      }
    }
    if (stored.ok()) {
      if (expected.size && *expected.size != stored->size) {
        return absl::InvalidArgumentError(
            absl::StrCat(S3UploadName(ref), ": size mismatch: blob \"", expected.digest->str(),
                         "\" has ", stored->size, " bytes, expected ", *expected.size));
      }
      // Nothing to write. An upload left under this ref is of no use any more.
      if (HoldRef(ref)) {
        absl::StatusOr<S3UploadState> left = ReadState(ref);
        absl::Status removed = absl::OkStatus();
        if (left.ok() && !LeaseHeldByOther(*left, "")) removed = RemoveUpload(*left);
        ReleaseRef(ref);
        RETURN_IF_ERROR(removed);
      }
      return absl::AlreadyExistsError(
          absl::StrCat("blob \"", expected.digest->str(), "\": already exists"));
    }
    if (!absl::IsNotFound(stored.status())) return stored.status();
  }
  if (!HoldRef(ref)) return Busy(ref);
  const std::string holder = RandomHex();
  absl::StatusOr<std::unique_ptr<IngestWriter>> writer =
      [&]() -> absl::StatusOr<std::unique_ptr<IngestWriter>> {
    absl::StatusOr<S3UploadState> state = ReadState(ref);
    if (absl::IsNotFound(state.status())) {
      S3UploadState fresh;
      fresh.ref = ref;
      fresh.expected = expected;
      fresh.started = fresh.updated = absl::Now();
      state = std::move(fresh);
    } else if (!state.ok()) {
      return state.status();
    } else {
      if (LeaseHeldByOther(*state, holder)) return Busy(ref);
      UploadExpectations& had = state->expected;
      if (expected.digest && had.digest && expected.digest != had.digest) {
        return absl::FailedPreconditionError(absl::StrCat(
            S3UploadName(ref), ": resuming with expected digest \"", expected.digest->str(),
            "\", but the upload expects \"", had.digest->str(), "\""));
      }
      if (expected.size && had.size && expected.size != had.size) {
        return absl::FailedPreconditionError(
            absl::StrCat(S3UploadName(ref), ": resuming with expected size ", *expected.size,
                         ", but the upload expects ", *had.size));
      }
      if (expected.digest) had.digest = expected.digest;
      if (expected.size) had.size = expected.size;
      if (had.size && state->offset() > *had.size) {
        return absl::InvalidArgumentError(
            absl::StrCat(S3UploadName(ref), ": already holds ", state->offset(),
                         " bytes, more than the expected size of ", *had.size));
      }
    }
    RETURN_IF_ERROR(TakeLease(*state, holder));
    ResumableSha256 sha256;
    if (!state->parts_hash.empty()) RETURN_IF_ERROR(sha256.Restore(state->parts_hash));
    std::string tail;
    if (state->tail_size > 0) {
      ASSIGN_OR_RETURN(tail, client_->GetSmall(UploadPrefix(ref) + "tail",
                                               static_cast<size_t>(options_.part_size)));
      if (static_cast<int64_t>(tail.size()) < state->tail_size) {
        return absl::DataLossError(absl::StrCat(S3UploadName(ref), ": the tail object holds ",
                                                tail.size(), " bytes, the state counts ",
                                                state->tail_size));
      }
      tail.resize(static_cast<size_t>(state->tail_size));
      sha256.Update(tail.data(), tail.size());
    }
    return std::unique_ptr<IngestWriter>(
        new S3IngestWriter(this, std::move(*state), holder, std::move(tail), sha256));
  }();
  // The writer releases the ref when it goes; without one it is released here.
  if (!writer.ok()) ReleaseRef(ref);
  return writer;
}

absl::StatusOr<UploadStatus> S3BlobStore::GetUploadStatus(const std::string& ref) {
  RETURN_IF_ERROR(ValidateRef(ref));
  ASSIGN_OR_RETURN(S3UploadState state, ReadState(ref));
  return UploadStatus{ref, state.offset(), state.expected, state.started, state.updated};
}

absl::Status S3BlobStore::AbortUpload(const std::string& ref) {
  RETURN_IF_ERROR(ValidateRef(ref));
  if (!HoldRef(ref)) return Busy(ref);
  absl::Status status = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(S3UploadState state, ReadState(ref));
    if (LeaseHeldByOther(state, "")) return Busy(ref);
    return RemoveUpload(state);
  }();
  ReleaseRef(ref);
  return status;
}

absl::Status S3BlobStore::Delete(const Digest& digest) {
  RETURN_IF_ERROR(Stat(digest).status());
  return client_->Delete(BlobKey(digest));
}

absl::StatusOr<std::string> S3BlobStore::Quarantine(const Digest& digest) {
  RETURN_IF_ERROR(Stat(digest).status());
  const std::string to = absl::StrCat(options_.prefix, "quarantine/sha256/", digest.hex(), ".",
                                      absl::ToUnixNanos(absl::Now()));
  RETURN_IF_ERROR(client_->Copy(BlobKey(digest), to));
  RETURN_IF_ERROR(client_->Delete(BlobKey(digest)));
  const std::string where = absl::StrCat("s3://", client_->config().bucket, "/", to);
  STRATA_LOG(WARNING) << "blob \"" << digest.str() << "\": damaged, moved to " << where;
  return where;
}

absl::StatusOr<BlobPage> S3BlobStore::List(const std::optional<Digest>& after, int limit) {
  if (limit < 1) {
    return absl::InvalidArgumentError(absl::StrCat("list: page size ", limit, " is below 1"));
  }
  const std::string prefix = absl::StrCat(options_.prefix, "blobs/sha256/");
  ASSIGN_OR_RETURN(s3::ObjectPage objects,
                   client_->ListObjects(prefix, after ? BlobKey(*after) : "", limit, std::nullopt));
  BlobPage page;
  for (const s3::ObjectInfo& object : objects.objects) {
    absl::StatusOr<Digest> digest = Digest::FromHex(object.key.substr(prefix.size()));
    if (!digest.ok() || digest->hex().size() != Digest::kHexLength) continue;
    page.blobs.push_back(BlobInfo{*digest, object.size, object.last_modified});
  }
  page.more = objects.continuation.has_value();
  return page;
}

absl::StatusOr<int> S3BlobStore::CleanUpAbandonedUploads(absl::Duration max_age) {
  const absl::Time cutoff = absl::Now() - max_age;
  const std::string uploads = absl::StrCat(options_.prefix, "uploads/");
  std::unordered_set<std::string> known_uploads;  // multipart uploads a state refers to
  int removed = 0;
  std::optional<std::string> continuation;
  for (;;) {
    ASSIGN_OR_RETURN(s3::ObjectPage page, client_->ListObjects(uploads, "", 1000, continuation));
    for (const s3::ObjectInfo& object : page.objects) {
      if (!absl::EndsWith(object.key, "/state")) continue;
      absl::StatusOr<std::string> text = client_->GetSmall(object.key, 1 << 20);
      if (!text.ok()) continue;  // removed meanwhile
      absl::StatusOr<S3UploadState> state = DecodeUploadState(*text);
      if (!state.ok()) {
        if (object.last_modified < cutoff) (void)client_->Delete(object.key);
        continue;
      }
      if (!state->upload_id.empty()) known_uploads.insert(state->upload_id);
      if (LeaseHeldByOther(*state, "") || state->updated >= cutoff) continue;
      if (!HoldRef(state->ref)) continue;  // a writer of this process holds it
      absl::Status status = RemoveUpload(*state);
      ReleaseRef(state->ref);
      if (!status.ok()) return status;
      ++removed;
    }
    if (!page.continuation) break;
    continuation = page.continuation;
  }
  // Multipart uploads no state refers to: a writer died between creating one and recording
  // it. Once old, they go too.
  for (const std::string& prefix : {uploads, absl::StrCat(options_.prefix, "blobs/")}) {
    ASSIGN_OR_RETURN(std::vector<s3::MultipartUploadInfo> open,
                     client_->ListMultipartUploads(prefix));
    for (const s3::MultipartUploadInfo& upload : open) {
      if (upload.initiated >= cutoff || known_uploads.count(upload.upload_id) > 0) continue;
      RETURN_IF_ERROR(client_->AbortMultipartUpload(upload.key, upload.upload_id));
    }
  }
  return removed;
}

}  // namespace strata::layerstore
