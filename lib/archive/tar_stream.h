#ifndef STRATA_LIB_ARCHIVE_TAR_STREAM_H_
#define STRATA_LIB_ARCHIVE_TAR_STREAM_H_

// The outer tar of an image archive, read and written as a stream of members. Unlike the
// layer codec (lib/layer, libarchive: every file type, xattrs, whiteouts), an image archive
// holds only directories, regular files and symlinks, so this reader and writer are small and
// strict: a damaged header, a member cut short, an archive without its end marker, a sparse
// member or an oversized extended header is an error, never skipped. Member contents stream
// through (never held whole); names come back exactly as stored (clean them with
// member_path.h before use).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "lib/layer/compression.h"
#include "lib/layer/stream.h"

namespace strata::archive {

// A source of the decompressed bytes of `source` (not owned), whichever compression it uses
// (none, gzip, bzip2, xz, zstd: told from its first bytes); *compression is set to it.
// Errors (from Read): those of lib/layer/decompression.h and the source's.
absl::StatusOr<std::unique_ptr<layer::ByteSource>> OpenDecompressed(
    layer::ByteSource* source, layer::Compression* compression);

// A source that serves `head` and then the rest of `source` (not owned).
class PrefixedSource : public layer::ByteSource {
 public:
  PrefixedSource(std::string head, layer::ByteSource* source)
      : head_(std::move(head)), source_(source) {}
  absl::StatusOr<absl::string_view> Read() override;

 private:
  std::string head_;
  bool head_served_ = false;
  layer::ByteSource* source_;
};

struct TarMember {
  enum class Type { kFile, kDirectory, kSymlink, kHardlink, kOther };
  std::string path;  // as stored (pax and GNU long names applied)
  Type type = Type::kFile;
  int64_t size = 0;  // content bytes (files only)
  std::string link;  // symlink or hard link target
};

class TarStreamReader {
 public:
  // source must outlive the reader.
  explicit TarStreamReader(layer::ByteSource* source) : source_(source) {}

  // The next member, or nullopt after the archive's end marker. What was not read of the
  // previous member's contents is skipped.
  // Errors: INVALID_ARGUMENT ("truncated" when the stream ends before a member or the end
  // marker is complete; a bad header checksum; a sparse member; a pax or GNU long-name header
  // over 1 MiB); the source's errors.
  absl::StatusOr<std::optional<TarMember>> Next();

  // The current member's contents: Read returns up to what is left of it, then "".
  // Errors: INVALID_ARGUMENT when the stream ends before the member does.
  layer::ByteSource* contents() { return &contents_; }

 private:
  class Contents : public layer::ByteSource {
   public:
    explicit Contents(TarStreamReader* reader) : reader_(reader) {}
    absl::StatusOr<absl::string_view> Read() override;

   private:
    TarStreamReader* reader_;
  };

  // Reads exactly n bytes into out; false at a clean end of stream before any byte.
  absl::StatusOr<bool> ReadExact(size_t n, std::string* out);
  // Up to max bytes of the stream (from what was read ahead first); "" at its end.
  absl::StatusOr<absl::string_view> ReadSome(size_t max);
  absl::Status Skip(int64_t n);
  // The contents of an extended header member of size bytes (capped).
  absl::StatusOr<std::string> ReadSmall(int64_t size, const char* what);

  layer::ByteSource* source_;
  absl::string_view pending_;  // read from source_, not yet consumed
  int64_t remaining_ = 0;      // of the current member's contents
  int64_t padding_ = 0;        // after them
  bool ended_ = false;
  Contents contents_{this};
};

// Writes a tar (ustar headers; sizes past 8 GiB in base-256, as GNU and Go do) member by
// member, every header and content chunk passed straight to the sink. mtimes are 0 and
// owners root, so the same images always make the same archive.
class TarStreamWriter {
 public:
  explicit TarStreamWriter(layer::ByteSink* sink) : sink_(sink) {}

  // path without trailing "/". Errors: INVALID_ARGUMENT for a name over 100 bytes that
  // cannot be split into ustar's prefix and name; the sink's errors.
  absl::Status AddDirectory(const std::string& path);
  absl::Status AddFile(const std::string& path, absl::string_view contents);
  // Exactly size bytes from source. Errors: DATA_LOSS when source gives more or fewer.
  absl::Status AddFile(const std::string& path, int64_t size, layer::ByteSource* source);
  // The end marker (two zero blocks). The sink is not closed.
  absl::Status Finish();

 private:
  absl::Status WriteHeader(const std::string& path, char type, int64_t size, int mode);
  absl::Status Pad(int64_t size);

  layer::ByteSink* sink_;
};

}  // namespace strata::archive

#endif  // STRATA_LIB_ARCHIVE_TAR_STREAM_H_
