#include "services/runtime/layerstore_blobs.h"

#include "absl/strings/str_cat.h"
#include "lib/base/errors.h"

namespace strata::runtime {
namespace {

class ReaderSource : public layer::ByteSource {
 public:
  explicit ReaderSource(std::unique_ptr<layerstore::BlobReader> reader)
      : reader_(std::move(reader)) {}
  absl::StatusOr<absl::string_view> Read() override { return reader_->Next(); }

 private:
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
                                              stored.size, " bytes), the layer is ",
                                              digest.str(), " (", size, " bytes)"));
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
  return std::unique_ptr<layer::ByteSource>(new ReaderSource(std::move(reader)));
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
