#include "services/runtime/layerstore_blobs.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "lib/base/errors.h"
#include "lib/base/log.h"

namespace strata::runtime {
namespace {

// A blob as a stream that survives the layerstore replica serving it going away: on
// UNAVAILABLE it reopens the blob where it stopped (round_robin picks a replica still up), a
// few times. The snapshotter verifies the digest of what it got, so a resumed stream that
// joined wrong could not pass unnoticed.
class ReaderSource : public layer::ByteSource {
 public:
  ReaderSource(layerstore::LayerstoreClient* client, Digest digest,
               std::unique_ptr<layerstore::BlobReader> reader)
      : client_(client), digest_(std::move(digest)), reader_(std::move(reader)) {}

  absl::StatusOr<absl::string_view> Read() override {
    for (int attempt = 1;; ++attempt) {
      const int64_t offset = reader_->offset();
      absl::StatusOr<absl::string_view> chunk = reader_->Next();
      if (chunk.ok() || !absl::IsUnavailable(chunk.status()) || attempt > kResumes) return chunk;
      STRATA_LOG(WARNING) << "reading " << digest_.str() << " from layerstore: " << chunk.status()
                          << "; resuming at byte " << offset;
      absl::SleepFor(absl::Milliseconds(100) * attempt);
      absl::StatusOr<std::unique_ptr<layerstore::BlobReader>> reopened =
          client_->OpenReader(digest_, offset);
      if (!reopened.ok()) return reopened.status();
      reader_ = std::move(*reopened);
    }
  }

 private:
  static constexpr int kResumes = 3;
  layerstore::LayerstoreClient* client_;
  const Digest digest_;
  std::unique_ptr<layerstore::BlobReader> reader_;
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
  ASSIGN_OR_RETURN(std::unique_ptr<layerstore::BlobWriter> writer, client_.OpenWriter(ref));
  if (writer->offset() != 0) {
    // A stale upload under the same name: start over.
    writer->Abort();
    ASSIGN_OR_RETURN(writer, client_.OpenWriter(ref));
  }
  return std::unique_ptr<BlobUpload>(new WriterUpload(std::move(writer)));
}

}  // namespace strata::runtime
