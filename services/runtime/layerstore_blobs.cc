#include "services/runtime/layerstore_blobs.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "lib/base/errors.h"
#include "lib/base/log.h"

namespace strata::runtime {
namespace {

// A blob as a stream that survives the layerstore replica serving it going away: on
// UNAVAILABLE it reopens the blob where it stopped (round_robin picks a replica still up),
// with a growing pause, for as long as kResumeWindow lasts. All replicas can be down at
// once for a moment (one restarting, its channel still backing off, while another goes
// away): the window covers that. The snapshotter verifies the digest of what it got, so a
// resumed stream that joined wrong could not pass unnoticed.
class ReaderSource : public layer::ByteSource {
 public:
  ReaderSource(layerstore::LayerstoreClient* client, Digest digest,
               std::unique_ptr<layerstore::BlobReader> reader)
      : client_(client), digest_(std::move(digest)), reader_(std::move(reader)) {}

  absl::StatusOr<absl::string_view> Read() override {
    absl::Time give_up = absl::InfiniteFuture();
    absl::Duration pause = absl::Milliseconds(100);
    absl::Status failed;
    for (;;) {
      if (reader_ != nullptr) {
        offset_ = reader_->offset();
        absl::StatusOr<absl::string_view> chunk = reader_->Next();
        if (chunk.ok() || !absl::IsUnavailable(chunk.status())) return chunk;
        failed = chunk.status();
        reader_.reset();
      }
      const absl::Time now = absl::Now();
      if (give_up == absl::InfiniteFuture()) give_up = now + kResumeWindow;
      if (now >= give_up) return failed;
      STRATA_LOG(WARNING) << "reading " << digest_.str() << " from layerstore: " << failed
                          << "; resuming at byte " << offset_;
      absl::SleepFor(std::min(pause, give_up - now));
      pause = std::min(pause * 2, absl::Seconds(2));
      absl::StatusOr<std::unique_ptr<layerstore::BlobReader>> reopened =
          client_->OpenReader(digest_, offset_);
      if (reopened.ok()) {
        reader_ = std::move(*reopened);
      } else if (absl::IsUnavailable(reopened.status())) {
        failed = reopened.status();
      } else {
        return reopened.status();
      }
    }
  }

 private:
  static constexpr absl::Duration kResumeWindow = absl::Seconds(30);
  layerstore::LayerstoreClient* client_;
  const Digest digest_;
  std::unique_ptr<layerstore::BlobReader> reader_;
  int64_t offset_ = 0;
};

class WriterUpload : public BlobUpload {
 public:
  explicit WriterUpload(std::unique_ptr<layerstore::BlobWriter> writer)
      : writer_(std::move(writer)) {}
  ~WriterUpload() override {
    if (!finished_) writer_->Abort();
  }

  absl::Status Write(absl::string_view data) override { return writer_->Write(data); }

  absl::Status Commit(const Digest& digest, int64_t size) override {
    finished_ = true;
    ASSIGN_OR_RETURN(layerstore::CommitResult stored, writer_->Commit());
    if (stored.digest != digest || stored.size != size) {
      return absl::InternalError(absl::StrCat("layerstore stored ", stored.digest.str(), " (",
                                              stored.size, " bytes), the layer is ", digest.str(),
                                              " (", size, " bytes)"));
    }
    return absl::OkStatus();
  }

  void Abort() override {
    finished_ = true;
    writer_->Abort();
  }

 private:
  std::unique_ptr<layerstore::BlobWriter> writer_;
  bool finished_ = false;
};

}  // namespace

absl::StatusOr<std::unique_ptr<layer::ByteSource>> LayerstoreBlobs::Open(const Digest& digest) {
  ASSIGN_OR_RETURN(std::unique_ptr<layerstore::BlobReader> reader, client_.OpenReader(digest));
  return std::unique_ptr<layer::ByteSource>(new ReaderSource(&client_, digest, std::move(reader)));
}

absl::StatusOr<std::unique_ptr<BlobUpload>> LayerstoreBlobs::StartUpload(const std::string& ref) {
  return StartLeasedUpload(ref, "");
}

absl::StatusOr<std::unique_ptr<BlobUpload>> LayerstoreBlobs::StartLeasedUpload(
    const std::string& ref, const std::string& lease) {
  ASSIGN_OR_RETURN(std::unique_ptr<layerstore::BlobWriter> writer,
                   client_.OpenWriter(ref, {}, {}, lease));
  if (writer->offset() != 0) {
    // A stale upload under the same name: start over.
    writer->Abort();
    ASSIGN_OR_RETURN(writer, client_.OpenWriter(ref, {}, {}, lease));
  }
  return std::unique_ptr<BlobUpload>(new WriterUpload(std::move(writer)));
}

}  // namespace strata::runtime
