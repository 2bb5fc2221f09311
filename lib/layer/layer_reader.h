#ifndef STRATA_LIB_LAYER_LAYER_READER_H_
#define STRATA_LIB_LAYER_LAYER_READER_H_

// Reads a layer (or any tarball) from a ByteSource: detects the compression from the bytes
// (none, gzip, bzip2, xz, zstd), decompresses, hashes the uncompressed stream (the diff id),
// optionally copies it to a tee, and parses the tar entries. Everything streams: memory use
// does not grow with the layer.

#include <archive.h>
#include <archive_entry.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "lib/digest/digest.h"
#include "lib/layer/compression.h"
#include "lib/layer/stream.h"

namespace strata::layer {

// An entry's path, symlink target and hard-link target as bytes: the locale's conversion
// when it works, else the archive's UTF-8 (which names written in binary come back as).
// nullptr when the entry has none.
const char* EntryPath(archive_entry* entry);
const char* EntrySymlink(archive_entry* entry);
const char* EntryHardlink(archive_entry* entry);

// The rules a layer entry must follow whoever reads it (import checks them before it
// records a layer, unpack again before it writes a snapshot): a character device 0:0 is
// overlayfs's spelling of a whiteout, so a layer carrying one under a plain name would delete
// the lower file once unpacked; layers delete with ".wh." entries (OCI image spec) only.
// Errors: INVALID_ARGUMENT naming the entry and the rule.
absl::Status ValidateLayerEntry(archive_entry* entry);

class LayerReader {
 public:
  // source and tee (optional: receives every uncompressed byte) must outlive the reader.
  explicit LayerReader(ByteSource* source, ByteSink* tee = nullptr);
  ~LayerReader();
  LayerReader(const LayerReader&) = delete;
  LayerReader& operator=(const LayerReader&) = delete;

  // The next entry (owned by the reader, valid until the next call), or nullptr after the
  // last. Every decoder complaint is an error, never skipped: a header whose checksum fails
  // is not read as an entry, and a damaged compressed stream (bad CRC, bad length, corrupt
  // or truncated data: see decompression.h) fails the read.
  // Errors: INVALID_ARGUMENT when the bytes are not a (compressed) tar archive, are damaged
  // or are truncated, or an entry's path or link target is longer than kMaxEntryPathSize;
  // the source's and the tee's errors as they are.
  absl::StatusOr<archive_entry*> NextEntry();

  // The next block of the current entry's contents at *offset (sparse files leave gaps);
  // false at the end of the entry.
  absl::StatusOr<bool> NextBlock(absl::string_view* data, int64_t* offset);

  // Reads whatever follows the archive's end (block padding) so that the diff id covers the
  // whole stream. Call after NextEntry returned nullptr.
  absl::Status Finish();

  Compression compression() const { return compression_; }
  // Valid after Finish().
  const Digest& diff_id() const { return diff_id_; }
  uint64_t uncompressed_size() const { return uncompressed_size_; }

 private:
  // Opens on first use; a failed open fails every later call the same way.
  absl::Status Open();
  absl::Status OpenOnce();
  absl::Status Error(const char* what);
  static la_ssize_t ReadDecompressed(struct archive*, void* client, const void** buffer);

  ByteSource* source_;
  ByteSink* tee_;
  // The first bytes of the source (enough to tell the compression), served before the rest.
  std::unique_ptr<ByteSource> head_and_rest_;
  std::unique_ptr<ByteSource> decompressed_;
  struct archive* tar_ = nullptr;
  bool opened_ = false;
  absl::Status open_status_;
  bool decompressed_eof_ = false;
  absl::Status io_status_;
  Sha256 hasher_;
  Compression compression_ = Compression::kNone;
  Digest diff_id_;
  uint64_t uncompressed_size_ = 0;
};

}  // namespace strata::layer

#endif  // STRATA_LIB_LAYER_LAYER_READER_H_
