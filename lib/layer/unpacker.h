#ifndef STRATA_LIB_LAYER_UNPACKER_H_
#define STRATA_LIB_LAYER_UNPACKER_H_

// Layer stream -> directory, safely. Entries are written with openat2(RESOLVE_IN_ROOT)
// relative to the target directory, so no entry (absolute paths, "..", symlinks or hard links
// pointing outside, whiteout tricks) can create, change or link anything outside it. OCI
// whiteouts become overlayfs whiteouts: ".wh.<name>" a 0/0 character device, ".wh..wh..opq"
// the xattr trusted.overlay.opaque=y; trusted.overlay.* xattrs in the tar are dropped (only
// Strata decides what overlayfs sees). Safe to run on several threads at once: nothing here
// depends on the process's umask or working directory.

#include <cstdint>

#include "absl/status/statusor.h"
#include "lib/digest/digest.h"
#include "lib/layer/compression.h"
#include "lib/layer/stream.h"

namespace strata::layer {

struct UnpackStats {
  Compression compression = Compression::kNone;
  // sha256 of the uncompressed stream.
  Digest diff_id;
  uint64_t uncompressed_size = 0;
  uint64_t entries = 0;
};

// Unpacks the layer read from source into the (empty, or partially filled by earlier layers
// of the same tar) directory open at root_fd.
// Errors: INVALID_ARGUMENT (not a tar, truncated, an entry escaping the root, a hard link to
// a missing file), errno-based errors writing the tree, the source's errors.
absl::StatusOr<UnpackStats> UnpackLayer(ByteSource* source, int root_fd);

}  // namespace strata::layer

#endif  // STRATA_LIB_LAYER_UNPACKER_H_
