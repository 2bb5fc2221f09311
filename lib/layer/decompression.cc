#include "lib/layer/decompression.h"

#include <bzlib.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "lib/base/errors.h"

namespace strata::layer {
namespace {

constexpr size_t kOutputChunk = 256 << 10;
// xz's biggest preset (-9e) needs 65 MiB to decode; a dictionary past this is hostile.
constexpr uint64_t kXzMemoryLimit = uint64_t{1} << 30;

absl::Status Damaged(absl::string_view compression, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("damaged ", compression, " stream: ", what));
}

// The loop every codec shares: pull compressed chunks, let the codec turn them into output,
// and at the end of the input ask the codec whether its stream ended where it should.
class Decoder : public ByteSource {
 public:
  explicit Decoder(ByteSource* compressed) : compressed_(compressed), output_(kOutputChunk, '\0') {}

  absl::StatusOr<absl::string_view> Read() final {
    for (;;) {
      if (input_.empty() && !input_ended_) {
        ASSIGN_OR_RETURN(input_, compressed_->Read());
        input_ended_ = input_.empty();
      }
      const size_t input_before = input_.size();
      ASSIGN_OR_RETURN(size_t produced,
                       Decode(&input_, input_ended_, output_.data(), output_.size()));
      if (produced > 0) return absl::string_view(output_.data(), produced);
      if (input_ended_ && input_.empty()) {
        if (Complete()) return absl::string_view();
        return Damaged(name(), "truncated (the data ends before the end of the stream)");
      }
      if (!input_.empty() && input_.size() == input_before) {
        return absl::InternalError(absl::StrCat(name(), " decoder made no progress"));
      }
    }
  }

 protected:
  // Decodes from *input (consuming what it used) into out; returns the bytes produced.
  // input_ended: no input follows what *input holds.
  virtual absl::StatusOr<size_t> Decode(absl::string_view* input, bool input_ended, char* out,
                                        size_t capacity) = 0;
  // After the last input: did the last stream end properly?
  virtual bool Complete() const = 0;
  virtual const char* name() const = 0;

 private:
  ByteSource* compressed_;
  absl::string_view input_;
  bool input_ended_ = false;
  std::string output_;
};

class PassThrough : public ByteSource {
 public:
  explicit PassThrough(ByteSource* source) : source_(source) {}
  absl::StatusOr<absl::string_view> Read() override { return source_->Read(); }

 private:
  ByteSource* source_;
};

// gzip members one after another (RFC 1952); zlib checks each member's CRC-32 and ISIZE.
class GzipDecoder : public Decoder {
 public:
  explicit GzipDecoder(ByteSource* compressed) : Decoder(compressed) {
    // 15 window bits + 16: gzip framing only (no raw deflate, no zlib header).
    initialized_ = inflateInit2(&stream_, 15 + 16) == Z_OK;
  }
  ~GzipDecoder() override {
    if (initialized_) inflateEnd(&stream_);
  }

 protected:
  absl::StatusOr<size_t> Decode(absl::string_view* input, bool input_ended, char* out,
                                size_t capacity) override {
    if (!initialized_) return absl::ResourceExhaustedError("gzip: cannot initialise zlib");
    if (input->empty()) {
      if (!in_member_) return 0;  // between members: the end, if the input ended
    } else if (!in_member_) {
      inflateReset(&stream_);
      in_member_ = true;
      ++members_;
    }
    stream_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input->data()));
    stream_.avail_in = static_cast<uInt>(input->size());
    stream_.next_out = reinterpret_cast<Bytef*>(out);
    stream_.avail_out = static_cast<uInt>(capacity);
    const int result = inflate(&stream_, Z_NO_FLUSH);
    input->remove_prefix(input->size() - stream_.avail_in);
    const size_t produced = capacity - stream_.avail_out;
    switch (result) {
      case Z_STREAM_END:
        in_member_ = false;
        return produced;
      case Z_OK:
      case Z_BUF_ERROR:  // no progress possible: more input needed (or it ended: truncated)
        return produced;
      case Z_MEM_ERROR:
        return absl::ResourceExhaustedError("gzip: out of memory");
      default: {
        // After a complete member, bytes that are not a gzip header are trailing garbage.
        if (members_ > 1 && stream_.total_in < 10 && produced == 0) {
          return Damaged("gzip", "data after the end of the last member");
        }
        // "incorrect data check" is a CRC-32 mismatch, "incorrect length check" an ISIZE one.
        const char* what = stream_.msg != nullptr ? stream_.msg : "corrupt data";
        return Damaged(
            "gzip", members_ > 1 ? absl::StrCat(what, " in member ", members_) : std::string(what));
      }
    }
  }

  bool Complete() const override { return !in_member_ && members_ > 0; }
  const char* name() const override { return "gzip"; }

 private:
  z_stream stream_{};
  bool initialized_ = false;
  bool in_member_ = false;
  int members_ = 0;
};

// zstd frames one after another; libzstd verifies each frame's checksum when it has one.
class ZstdDecoder : public Decoder {
 public:
  explicit ZstdDecoder(ByteSource* compressed)
      : Decoder(compressed), stream_(ZSTD_createDStream()) {}
  ~ZstdDecoder() override { ZSTD_freeDStream(stream_); }

 protected:
  absl::StatusOr<size_t> Decode(absl::string_view* input, bool input_ended, char* out,
                                size_t capacity) override {
    if (stream_ == nullptr) return absl::ResourceExhaustedError("zstd: cannot allocate");
    ZSTD_inBuffer in{input->data(), input->size(), 0};
    ZSTD_outBuffer output{out, capacity, 0};
    const size_t result = ZSTD_decompressStream(stream_, &output, &in);
    if (ZSTD_isError(result)) return Damaged("zstd", ZSTD_getErrorName(result));
    input->remove_prefix(in.pos);
    // 0: a frame is complete and fully flushed. Anything else: more of a frame is expected.
    if (in.pos > 0 || output.pos > 0) frame_complete_ = result == 0;
    return output.pos;
  }

  bool Complete() const override { return frame_complete_; }
  const char* name() const override { return "zstd"; }

 private:
  ZSTD_DStream* stream_;
  bool frame_complete_ = false;
};

// xz streams one after another (LZMA_CONCATENATED); liblzma checks each block's check.
class XzDecoder : public Decoder {
 public:
  explicit XzDecoder(ByteSource* compressed) : Decoder(compressed) {
    initialized_ = lzma_stream_decoder(&stream_, kXzMemoryLimit, LZMA_CONCATENATED) == LZMA_OK;
  }
  ~XzDecoder() override { lzma_end(&stream_); }

 protected:
  absl::StatusOr<size_t> Decode(absl::string_view* input, bool input_ended, char* out,
                                size_t capacity) override {
    if (!initialized_) return absl::ResourceExhaustedError("xz: cannot initialise liblzma");
    if (ended_) {
      if (!input->empty()) return Damaged("xz", "data after the end of the stream");
      return 0;
    }
    stream_.next_in = reinterpret_cast<const uint8_t*>(input->data());
    stream_.avail_in = input->size();
    stream_.next_out = reinterpret_cast<uint8_t*>(out);
    stream_.avail_out = capacity;
    const lzma_ret result = lzma_code(&stream_, input_ended ? LZMA_FINISH : LZMA_RUN);
    input->remove_prefix(input->size() - stream_.avail_in);
    const size_t produced = capacity - stream_.avail_out;
    switch (result) {
      case LZMA_STREAM_END:
        ended_ = true;
        return produced;
      case LZMA_OK:
      case LZMA_BUF_ERROR:  // no progress: truncated if the input ended
        return produced;
      case LZMA_MEMLIMIT_ERROR:
        return absl::ResourceExhaustedError("xz: the stream needs more than 1 GiB to decode");
      case LZMA_MEM_ERROR:
        return absl::ResourceExhaustedError("xz: out of memory");
      case LZMA_FORMAT_ERROR:
        return Damaged("xz", "not in the .xz format");
      case LZMA_OPTIONS_ERROR:
        return Damaged("xz", "unsupported options");
      case LZMA_DATA_ERROR:
        return Damaged("xz", "corrupt data (a check or size does not match)");
      default:
        return Damaged("xz", absl::StrCat("liblzma error ", static_cast<int>(result)));
    }
  }

  bool Complete() const override { return ended_; }
  const char* name() const override { return "xz"; }

 private:
  lzma_stream stream_ = LZMA_STREAM_INIT;
  bool initialized_ = false;
  bool ended_ = false;
};

// bzip2 streams one after another (what pbzip2 and `cat a.bz2 b.bz2` make); libbz2 checks
// each block's CRC and the stream's combined CRC.
class Bzip2Decoder : public Decoder {
 public:
  using Decoder::Decoder;
  ~Bzip2Decoder() override {
    if (in_stream_) BZ2_bzDecompressEnd(&stream_);
  }

 protected:
  absl::StatusOr<size_t> Decode(absl::string_view* input, bool input_ended, char* out,
                                size_t capacity) override {
    if (input->empty() && !in_stream_) return 0;
    if (!in_stream_) {
      stream_ = bz_stream{};
      if (BZ2_bzDecompressInit(&stream_, 0, 0) != BZ_OK) {
        return absl::ResourceExhaustedError("bzip2: cannot initialise libbz2");
      }
      in_stream_ = true;
      ++streams_;
    }
    stream_.next_in = const_cast<char*>(input->data());
    stream_.avail_in = static_cast<unsigned>(input->size());
    stream_.next_out = out;
    stream_.avail_out = static_cast<unsigned>(capacity);
    const int result = BZ2_bzDecompress(&stream_);
    input->remove_prefix(input->size() - stream_.avail_in);
    const size_t produced = capacity - stream_.avail_out;
    switch (result) {
      case BZ_STREAM_END:
        BZ2_bzDecompressEnd(&stream_);
        in_stream_ = false;
        return produced;
      case BZ_OK:
        return produced;
      case BZ_MEM_ERROR:
        return absl::ResourceExhaustedError("bzip2: out of memory");
      case BZ_DATA_ERROR_MAGIC:
        return Damaged(
            "bzip2", streams_ > 1 ? "data after the end of the stream" : "not in the bzip2 format");
      case BZ_DATA_ERROR:
        return Damaged("bzip2", "corrupt data (a CRC does not match)");
      default:
        return Damaged("bzip2", absl::StrCat("libbz2 error ", result));
    }
  }

  bool Complete() const override { return !in_stream_ && streams_ > 0; }
  const char* name() const override { return "bzip2"; }

 private:
  bz_stream stream_{};
  bool in_stream_ = false;
  int streams_ = 0;
};

}  // namespace

std::unique_ptr<ByteSource> NewDecompressingSource(Compression compression,
                                                   ByteSource* compressed) {
  switch (compression) {
    case Compression::kGzip:
      return std::make_unique<GzipDecoder>(compressed);
    case Compression::kZstd:
      return std::make_unique<ZstdDecoder>(compressed);
    case Compression::kXz:
      return std::make_unique<XzDecoder>(compressed);
    case Compression::kBzip2:
      return std::make_unique<Bzip2Decoder>(compressed);
    case Compression::kNone:
      break;
  }
  return std::make_unique<PassThrough>(compressed);
}

}  // namespace strata::layer
