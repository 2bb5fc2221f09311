#ifndef STRATA_LIB_LAYER_DECOMPRESSION_H_
#define STRATA_LIB_LAYER_DECOMPRESSION_H_

// Decoders for the layer compressions, strict where libarchive's filters are lax: a damaged
// or truncated layer must never unpack or import as if it were whole. Every gzip member's
// CRC-32 and length trailer is checked (zlib), zstd frame checksums and xz and bzip2 block
// checks are verified by their libraries, and a stream that ends before its last gzip member,
// zstd frame, xz stream or bzip2 stream is complete is an error. Concatenated members,
// frames and streams read as one stream, as `gzip -d`, `zstd -d`, `xz -d` and `bzip2 -d` read
// them; anything else after the last one (trailing garbage) is an error, as in Go's readers.

#include <memory>

#include "absl/status/statusor.h"
#include "lib/layer/compression.h"
#include "lib/layer/stream.h"

namespace strata::layer {

// A source of the decompressed bytes of `compressed` (not owned; must outlive the result).
// kNone passes the bytes through.
// Errors (from Read): INVALID_ARGUMENT naming the compression and the damage (bad checksum,
// bad length, corrupt data, truncated stream, trailing garbage); RESOURCE_EXHAUSTED when a
// stream needs more memory than allowed (an xz dictionary over 1 GiB); the source's errors.
std::unique_ptr<ByteSource> NewDecompressingSource(Compression compression, ByteSource* compressed);

}  // namespace strata::layer

#endif  // STRATA_LIB_LAYER_DECOMPRESSION_H_
