#ifndef STRATA_LIB_LAYER_OVERLAY_DIFF_H_
#define STRATA_LIB_LAYER_OVERLAY_DIFF_H_

// The changes a container made, read from its overlayfs upper directory alone (with lookups
// in the lower layers only for the paths the upper directory holds): the cost grows with the
// change, not with the image. The vocabulary is docker's, and the rules follow podman's
// native overlay diff so both list the same paths with the same letters:
//   D  a whiteout (the path was removed);
//   A  a path no lower layer has;
//   C  a path that exists below and is in the upper directory, except directories whose
//      mode, size and mtime are those of the lower one (copied up only because something
//      below them changed); and every ancestor of an A or D that is not already listed.
// One deliberate difference: an opaque directory (a lower directory removed and created
// again) is C when it exists below (A otherwise), and each lower child it no longer holds is
// D. podman lists the directory itself as D and says nothing of the children it lost.

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace strata::layer {

enum class ChangeKind { kAdded, kChanged, kDeleted };

struct Change {
  ChangeKind kind;
  // Absolute path inside the container, e.g. "/etc/hosts".
  std::string path;
};

// 'A', 'C' or 'D'.
char ChangeLetter(ChangeKind kind);

// Changes of upper_dir over lower_dirs (top-first: the layer right below the upper directory
// first), sorted by path.
// Errors: from reading the directories (naming the path).
absl::StatusOr<std::vector<Change>> OverlayChanges(const std::string& upper_dir,
                                                   const std::vector<std::string>& lower_dirs);

}  // namespace strata::layer

#endif  // STRATA_LIB_LAYER_OVERLAY_DIFF_H_
