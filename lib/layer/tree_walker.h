#ifndef STRATA_LIB_LAYER_TREE_WALKER_H_
#define STRATA_LIB_LAYER_TREE_WALKER_H_

// A depth-first walk of a directory tree in a stable order: a directory before its children,
// the children of each directory sorted by name (byte order). The same tree always gives
// the same sequence, which is what makes a layer's diff id reproducible. The walk never
// follows symlinks and never leaves the tree.

#include <sys/stat.h>

#include <functional>
#include <string>

#include "absl/status/statusor.h"

namespace strata::layer {

struct TreeEntry {
  // Relative to the walk's root, "/"-separated, e.g. "etc/passwd".
  std::string path;
  // The directory that holds the entry, open for the duration of the callback, and the
  // entry's name in it: use *at() calls on (parent_fd, name).
  int parent_fd;
  std::string name;
  struct stat st;
};

enum class Visit { kContinue, kSkipChildren };

using TreeVisitor = std::function<absl::StatusOr<Visit>(const TreeEntry&)>;

// Calls visit for every entry below the directory open at root_fd (not for the root itself).
// An error from visit stops the walk and is returned; so are errors reading the tree, with
// the path that failed. Entries that vanish while walking (a live container) are skipped.
absl::Status WalkTree(int root_fd, const TreeVisitor& visit);

// Like WalkTree, but rooted at one entry (name in parent_fd, reported with path `path`):
// visits the entry itself, then, when it is a directory, everything below it.
absl::Status WalkEntry(int parent_fd, const std::string& name, const std::string& path,
                       const TreeVisitor& visit);

}  // namespace strata::layer

#endif  // STRATA_LIB_LAYER_TREE_WALKER_H_
