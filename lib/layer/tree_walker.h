#ifndef STRATA_LIB_LAYER_TREE_WALKER_H_
#define STRATA_LIB_LAYER_TREE_WALKER_H_

// A depth-first walk of a directory tree in a stable order: a directory before its children,
// the children of each directory sorted by name (byte order). The same tree always gives
// the same sequence, which is what makes a layer's diff id reproducible. The walk never
// follows symlinks and never leaves the tree.
//
// The walk is iterative (an explicit stack, not recursion: it runs on gRPC threads with small
// stacks, over trees a container made), holds one directory open at a time (it climbs back
// with "..", checking it arrives where it left), and its cost is linear in the entries. A tree
// deeper than kMaxTreeDepth, or with a path longer than kMaxEntryPathSize (lib/layer/limits.h),
// is refused with FAILED_PRECONDITION naming the (shortened) path.

#include <sys/stat.h>

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "lib/layer/limits.h"

namespace strata::layer {

struct TreeEntry {
  // Relative to the walk's root, "/"-separated, e.g. "etc/passwd".
  std::string path;
  // The directory that holds the entry, open for the duration of the callback, and the
  // entry's name in it: use *at() calls on (parent_fd, name).
  int parent_fd;
  std::string name;
  struct stat st;
  // 1 for the root's children (for WalkEntry: the entry itself), 2 below them, and so on.
  int depth;
};

enum class Visit { kContinue, kSkipChildren };

using TreeVisitor = std::function<absl::StatusOr<Visit>(const TreeEntry&)>;

// Calls visit for every entry below the directory open at root_fd (not for the root itself).
// An error from visit stops the walk and is returned; so are errors reading the tree, with
// the path that failed. Entries that vanish while walking (a live container) are skipped.
// Errors: FAILED_PRECONDITION for a tree deeper than kMaxTreeDepth or a path too long; ABORTED when
// a directory was moved while it was walked; errno codes (ErrnoStatus) from reading the tree.
absl::Status WalkTree(int root_fd, const TreeVisitor& visit);

// Like WalkTree, but rooted at one entry (name in parent_fd, reported with path `path`):
// visits the entry itself, then, when it is a directory, everything below it.
absl::Status WalkEntry(int parent_fd, const std::string& name, const std::string& path,
                       const TreeVisitor& visit);

}  // namespace strata::layer

#endif  // STRATA_LIB_LAYER_TREE_WALKER_H_
