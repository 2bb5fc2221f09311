#ifndef STRATA_LIB_LAYER_UNPACKER_H_
#define STRATA_LIB_LAYER_UNPACKER_H_

// Layer stream -> directory, safely. Entries are written with openat2(RESOLVE_IN_ROOT)
// relative to the target directory, so no entry (absolute paths, "..", symlinks or hard links
// pointing outside, whiteout tricks) can create, change or link anything outside it. OCI
// whiteouts become overlayfs whiteouts: ".wh.<name>" a 0/0 character device, ".wh..wh..opq"
// the xattr trusted.overlay.opaque=y; trusted.overlay.* xattrs in the tar are dropped (only
// Strata decides what overlayfs sees). Safe to run on several threads at once: nothing here
// depends on the process's umask or working directory.
//
// Whiteouts follow the OCI image spec: they delete from the layers below only, whatever
// their order in the tar. So a layer never hides what it creates itself (an entry and a
// whiteout of the same name keep the entry; a directory so replaced becomes opaque, since
// the lower one was deleted), and whiteouts inside a directory the layer makes opaque are
// not written (nothing below shows through there, and overlayfs would list them). Only the
// OCI entries make whiteouts: a character device 0:0 under a plain name is refused.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/digest/digest.h"
#include "lib/layer/compression.h"
#include "lib/layer/stream.h"

namespace strata::layer {

struct UnpackOptions {
  // The unpacked layers below this one, top first (open directories, not owned), when the
  // target is a snapshot to be stacked on them. Then a whiteout is written only where those
  // layers show something to hide, so a bottom layer (none below) gets no whiteout and no
  // opaque marker at all. Unset: every whiteout and marker is written (the directory is read
  // back as a layer later, so it keeps what the tar says).
  std::optional<std::vector<int>> lower_layers;

  // `docker cp` into a container: the tar holds plain files, not a layer. No whiteout is
  // written (".wh." names are refused: committed, they would delete files), an entry never
  // replaces a directory with a non-directory or the reverse (docker's
  // NoOverwriteDirNonDir), and a directory that exists keeps its metadata.
  bool plain_files = false;
  // Every entry gets this owner instead of the tar's (docker cp without -a: root).
  std::optional<std::pair<uint32_t, uint32_t>> owner;
  // Entries whose first path component is rebase_from get rebase_to instead (docker's
  // RebaseArchiveEntries: `cp file CONTAINER:/new-name`). Hard link targets too.
  std::string rebase_from;
  std::string rebase_to;
};

struct UnpackStats {
  Compression compression = Compression::kNone;
  // sha256 of the uncompressed stream.
  Digest diff_id;
  uint64_t uncompressed_size = 0;
  uint64_t entries = 0;
};

// Unpacks the layer read from source into the (empty, or partially filled by earlier layers
// of the same tar) directory open at root_fd.
// Errors: INVALID_ARGUMENT (not a tar, damaged, truncated, an entry escaping the root, a
// hard link to a missing file, a character device 0:0), errno-based errors writing the tree,
// the source's errors.
absl::StatusOr<UnpackStats> UnpackLayer(ByteSource* source, int root_fd,
                                        const UnpackOptions& options = {});

}  // namespace strata::layer

#endif  // STRATA_LIB_LAYER_UNPACKER_H_
