#include "lib/layer/compression.h"

#include <zstd.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "lib/base/errors.h"
#include "lib/layer/gzip_sink.h"
#include "lib/oci/media_types.h"

namespace strata::layer {
namespace {

// zstd level 1 with worker threads runs at several hundred MB/s per core while still
// shrinking typical file systems to about a third; layers are written far more often than a
// better ratio would pay back.
constexpr int kDefaultZstdLevel = 1;
// gzip is for peers that cannot read zstd; level 1 keeps it from being the bottleneck.
constexpr int kDefaultGzipLevel = 1;
constexpr size_t kOutputChunk = 1 << 20;

class ZstdSink : public ByteSink {
 public:
  ZstdSink(ByteSink* next, int level, int threads)
      : next_(next), context_(ZSTD_createCCtx()), output_(kOutputChunk, '\0') {
    ZSTD_CCtx_setParameter(context_, ZSTD_c_compressionLevel, level);
    ZSTD_CCtx_setParameter(context_, ZSTD_c_checksumFlag, 1);
    if (threads > 0) ZSTD_CCtx_setParameter(context_, ZSTD_c_nbWorkers, threads);
  }
  ~ZstdSink() override { ZSTD_freeCCtx(context_); }

  absl::Status Write(absl::string_view data) override {
    ZSTD_inBuffer input{data.data(), data.size(), 0};
    while (input.pos < input.size) {
      RETURN_IF_ERROR(Step(&input, ZSTD_e_continue).status());
    }
    return absl::OkStatus();
  }

  absl::Status Close() override {
    ZSTD_inBuffer input{nullptr, 0, 0};
    for (;;) {
      ASSIGN_OR_RETURN(size_t remaining, Step(&input, ZSTD_e_end));
      if (remaining == 0) break;
    }
    return next_->Close();
  }

 private:
  absl::StatusOr<size_t> Step(ZSTD_inBuffer* input, ZSTD_EndDirective mode) {
    ZSTD_outBuffer output{output_.data(), output_.size(), 0};
    const size_t result = ZSTD_compressStream2(context_, &output, input, mode);
    if (ZSTD_isError(result)) {
      return absl::InternalError(absl::StrCat("zstd: ", ZSTD_getErrorName(result)));
    }
    if (output.pos > 0) RETURN_IF_ERROR(next_->Write({output_.data(), output.pos}));
    return result;
  }

  ByteSink* next_;
  ZSTD_CCtx* context_;
  std::string output_;
};

// Passes bytes through unchanged (an uncompressed layer).
class PassThroughSink : public ByteSink {
 public:
  explicit PassThroughSink(ByteSink* next) : next_(next) {}
  absl::Status Write(absl::string_view data) override { return next_->Write(data); }
  absl::Status Close() override { return next_->Close(); }

 private:
  ByteSink* next_;
};

}  // namespace

const char* CompressionName(Compression compression) {
  switch (compression) {
    case Compression::kNone:
      return "none";
    case Compression::kGzip:
      return "gzip";
    case Compression::kBzip2:
      return "bzip2";
    case Compression::kXz:
      return "xz";
    case Compression::kZstd:
      return "zstd";
  }
  return "unknown";
}

Compression DetectCompression(absl::string_view head) {
  if (absl::StartsWith(head, "\x1f\x8b")) return Compression::kGzip;
  if (absl::StartsWith(head, "BZh")) return Compression::kBzip2;
  if (absl::StartsWith(head, absl::string_view("\xfd"
                                               "7zXZ\x00",
                                               6)))
    return Compression::kXz;
  if (absl::StartsWith(head, "\x28\xb5\x2f\xfd")) return Compression::kZstd;
  return Compression::kNone;
}

absl::StatusOr<std::string> LayerMediaType(Compression compression) {
  switch (compression) {
    case Compression::kNone:
      return std::string(oci::kMediaTypeLayerTar);
    case Compression::kGzip:
      return std::string(oci::kMediaTypeLayerGzip);
    case Compression::kZstd:
      return std::string(oci::kMediaTypeLayerZstd);
    default:
      return absl::InvalidArgumentError(absl::StrCat("OCI has no layer media type for ",
                                                     CompressionName(compression), " compression"));
  }
}

absl::StatusOr<Compression> CompressionOfMediaType(absl::string_view media_type) {
  if (media_type == oci::kMediaTypeLayerTar ||
      media_type == "application/vnd.docker.image.rootfs.diff.tar") {
    return Compression::kNone;
  }
  if (media_type == oci::kMediaTypeLayerGzip ||
      media_type == "application/vnd.docker.image.rootfs.diff.tar.gzip") {
    return Compression::kGzip;
  }
  if (media_type == oci::kMediaTypeLayerZstd) return Compression::kZstd;
  return absl::InvalidArgumentError(
      absl::StrCat("media type \"", media_type, "\" is not a layer media type"));
}

absl::StatusOr<std::unique_ptr<ByteSink>> NewCompressingSink(Compression compression,
                                                             ByteSink* next, int level,
                                                             int threads) {
  switch (compression) {
    case Compression::kNone:
      return std::unique_ptr<ByteSink>(new PassThroughSink(next));
    case Compression::kGzip:
      return NewGzipSink(next, level < 0 ? kDefaultGzipLevel : level, threads);
    case Compression::kZstd:
      return std::unique_ptr<ByteSink>(
          new ZstdSink(next, level < 0 ? kDefaultZstdLevel : level, threads));
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("Strata does not write ", CompressionName(compression), " layers"));
  }
}

}  // namespace strata::layer
