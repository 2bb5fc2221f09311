#include "services/layerstore/core/blob_verify.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "lib/base/errors.h"
#include "lib/base/log.h"

namespace strata::layerstore {
namespace {

class VerifyingRangeReader final : public BlobRangeReader {
 public:
  explicit VerifyingRangeReader(std::unique_ptr<BlobRangeReader> whole)
      : whole_(std::move(whole)) {}

  const BlobInfo& info() const override { return whole_->info(); }
  int64_t position() const override { return whole_->position(); }
  int64_t remaining() const override { return whole_->remaining(); }

  absl::StatusOr<size_t> Read(char* buffer, size_t capacity) override {
    if (!failure_.ok()) return failure_;
    ASSIGN_OR_RETURN(size_t n, whole_->Read(buffer, capacity));
    sha256_.Update(buffer, n);
    if (whole_->remaining() == 0 && !checked_) {
      checked_ = true;
      const Digest actual = sha256_.Finish();
      if (actual != info().digest) {
        // The last chunk is withheld: a client that ignores the status still gets no whole
        // copy of the damaged bytes.
        failure_ = DamagedBlobError(info(), actual);
        return failure_;
      }
    }
    return n;
  }

 private:
  std::unique_ptr<BlobRangeReader> whole_;
  Sha256 sha256_;
  bool checked_ = false;
  absl::Status failure_;
};

}  // namespace

absl::Status DamagedBlobError(const BlobInfo& blob, const Digest& actual) {
  absl::Status status = absl::DataLossError(absl::StrCat(
      "blob \"", blob.digest.str(), "\" is damaged in storage: its ", blob.size,
      " bytes have digest \"", actual.str(),
      "\"; `strata system check` quarantines it, and storing the blob again repairs it"));
  STRATA_LOG(ERROR) << status.message();
  return status;
}

absl::StatusOr<std::unique_ptr<BlobRangeReader>> VerifyingReader(
    std::unique_ptr<BlobRangeReader> whole) {
  if (whole->remaining() == 0) {
    const Digest empty = Digest::Of("");
    if (whole->info().digest != empty) return DamagedBlobError(whole->info(), empty);
  }
  return std::make_unique<VerifyingRangeReader>(std::move(whole));
}

absl::Status VerifyBlob(BlobStore& store, const Digest& digest) {
  ASSIGN_OR_RETURN(std::unique_ptr<BlobRangeReader> reader, store.OpenReader(digest, 0, 0));
  std::string buffer(1 << 20, '\0');
  while (reader->remaining() > 0) {
    ASSIGN_OR_RETURN(size_t n, reader->Read(buffer.data(), buffer.size()));
    if (n == 0) break;
  }
  return absl::OkStatus();
}

absl::StatusOr<ScrubReport> ScrubBlobs(
    BlobStore& store, const std::function<absl::Status(const ScrubReport&)>& after_each) {
  ScrubReport report;
  std::optional<Digest> after;
  for (;;) {
    ASSIGN_OR_RETURN(BlobPage page, store.List(after, 1000));
    for (const BlobInfo& blob : page.blobs) {
      absl::Status verified = VerifyBlob(store, blob.digest);
      if (absl::IsNotFound(verified)) continue;  // deleted since it was listed
      ++report.blobs_checked;
      report.bytes_checked += blob.size;
      if (!verified.ok() && !absl::IsDataLoss(verified)) return verified;
      if (verified.ok()) {
        if (after_each) RETURN_IF_ERROR(after_each(report));
        continue;
      }
      DamagedBlob damaged{blob.digest, blob.size, std::string(verified.message()), "", ""};
      absl::StatusOr<std::string> moved = store.Quarantine(blob.digest);
      if (moved.ok()) {
        damaged.quarantined_to = *moved;
      } else if (!absl::IsNotFound(moved.status())) {
        damaged.quarantine_error = std::string(moved.status().message());
      }
      report.damaged.push_back(std::move(damaged));
      if (after_each) RETURN_IF_ERROR(after_each(report));
    }
    if (!page.more || page.blobs.empty()) return report;
    after = page.blobs.back().digest;
  }
}

}  // namespace strata::layerstore
