#ifndef STRATA_LIB_LAYER_LAYER_WRITER_H_
#define STRATA_LIB_LAYER_LAYER_WRITER_H_

// Directory -> tar stream, in one pass: walk (sorted, so the same content gives the same
// diff id), write tar entries, hash the uncompressed stream (the diff id), compress, hash the
// compressed stream (the blob digest) and hand the result to a sink as it is produced.
// Nothing is staged whole, in memory or on disk.

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "lib/digest/digest.h"
#include "lib/layer/compression.h"
#include "lib/layer/stream.h"

namespace strata::layer {

struct LayerDigests {
  // sha256 of the uncompressed tar.
  Digest diff_id;
  uint64_t uncompressed_size = 0;
  // sha256 of the bytes written to the sink.
  Digest digest;
  uint64_t size = 0;
  // Entries written (whiteouts included).
  uint64_t entries = 0;
};

struct LayerWriteOptions {
  Compression compression = Compression::kZstd;
  // -1: the compressor's default.
  int level = -1;
  // zstd worker threads (0: compress in the calling thread).
  int threads = 2;
};

// Writes an overlayfs upper directory as an OCI layer: regular files, directories, symlinks,
// hard links (as tar hard links), device nodes, fifos, modes, owners, mtimes and every xattr
// but trusted.overlay.*; 0/0 character devices (overlay whiteouts) become ".wh.<name>", opaque
// directories get a ".wh..wh..opq" entry. The sink is closed at the end.
// Errors: from reading the tree (naming the path) or from the sink.
absl::StatusOr<LayerDigests> WriteOverlayUpperAsLayer(int upper_fd, const LayerWriteOptions&,
                                                      ByteSink* sink);

// Writes a plain directory tree (an overlay mount's merged view, say) as an uncompressed
// tar: everything below root_fd, owners, modes, xattrs and hard links kept. The sink is not
// closed. Returns the number of entries.
absl::StatusOr<uint64_t> WriteTreeAsTar(int root_fd, ByteSink* sink);

// Writes one entry (name in parent_fd: a file, a directory with everything below it, a
// symlink...) as an uncompressed tar whose paths start with archive_name, as `docker cp`
// does. The sink is not closed. Returns the number of entries.
absl::StatusOr<uint64_t> WriteEntryAsTar(int parent_fd, const std::string& name,
                                         const std::string& archive_name, ByteSink* sink);

}  // namespace strata::layer

#endif  // STRATA_LIB_LAYER_LAYER_WRITER_H_
