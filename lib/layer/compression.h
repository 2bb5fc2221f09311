#ifndef STRATA_LIB_LAYER_COMPRESSION_H_
#define STRATA_LIB_LAYER_COMPRESSION_H_

// Layer compressions: which one a stream uses (by its magic bytes, never by a file name),
// the OCI media type of each, and compressing sinks for the ones Strata writes.

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "lib/layer/stream.h"

namespace strata::layer {

enum class Compression { kNone, kGzip, kBzip2, kXz, kZstd };

// "none", "gzip", "bzip2", "xz", "zstd".
const char* CompressionName(Compression compression);

// The compression of a stream that starts with these bytes (at least 6 are needed to tell
// them all apart); kNone when no known magic matches.
Compression DetectCompression(absl::string_view head);

// The OCI layer media type for a compression Strata writes (none, gzip, zstd).
// Errors: INVALID_ARGUMENT for bzip2 and xz, which OCI has no layer media type for.
absl::StatusOr<std::string> LayerMediaType(Compression compression);

// The compression a layer media type names.
// Errors: INVALID_ARGUMENT for a media type that is not an OCI or Docker layer.
absl::StatusOr<Compression> CompressionOfMediaType(absl::string_view media_type);

// A sink that compresses what it is given and writes the result to next. Close() ends the
// compressed stream and closes next. zstd and gzip run on `threads` worker threads (0: in the
// caller); gzip is written as one member per block (see gzip_sink.h).
// Errors: INVALID_ARGUMENT for a compression Strata does not write (bzip2, xz).
absl::StatusOr<std::unique_ptr<ByteSink>> NewCompressingSink(Compression compression,
                                                             ByteSink* next, int level = -1,
                                                             int threads = 0);

}  // namespace strata::layer

#endif  // STRATA_LIB_LAYER_COMPRESSION_H_
