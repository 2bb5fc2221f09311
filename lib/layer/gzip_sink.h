#ifndef STRATA_LIB_LAYER_GZIP_SINK_H_
#define STRATA_LIB_LAYER_GZIP_SINK_H_

// A gzip compressor that uses every core: the input is cut into fixed blocks, each block is
// compressed by libdeflate on a worker thread into a gzip member of its own, and the members
// are written to the next sink in order. RFC 1952 defines a gzip file as a series of members,
// and every reader of layers reads them as one stream (Go's compress/gzip, pigz, zlib's gzip,
// Python's gzip); bgzip and pgzip write the same shape. The output depends on the input and the
// level only, never on the number of threads, so a layer converted twice has one digest.

#include <memory>

#include "lib/layer/stream.h"

namespace strata::layer {

// Bytes of input per gzip member: big enough that the member framing (18 bytes) and the lost
// 32 KiB of history at each boundary cost nothing measurable, small enough to keep every core
// busy on a layer of a few MB.
inline constexpr size_t kGzipBlockSize = 1 << 20;

// A sink that gzip-compresses at `level` (1..12, libdeflate's scale: 1 is fastest, 6 is
// zlib's default) on `threads` worker threads (0 or 1: in the caller's thread), writing the
// compressed stream to next. Close() writes the last member (an empty input still makes one
// valid member) and closes next. Errors of next are returned by the Write or Close that meets
// them; after an error the sink accepts nothing more.
std::unique_ptr<ByteSink> NewGzipSink(ByteSink* next, int level, int threads);

}  // namespace strata::layer

#endif  // STRATA_LIB_LAYER_GZIP_SINK_H_
