#ifndef STRATA_LIB_LAYER_LIMITS_H_
#define STRATA_LIB_LAYER_LIMITS_H_

// The bounds on the trees and archives Strata reads and writes, in one place. A tree past them
// is refused with an error naming the (shortened) path, never walked into a crash: trees come
// from containers and archives from anyone.

#include <cstddef>

namespace strata::layer {

// How deep a tree diff, commit, export and cp walk (the root's children are at depth 1).
inline constexpr int kMaxTreeDepth = 4096;

// The longest path (or link target) an archive entry may have, in bytes: PATH_MAX less its
// NUL. Linux cannot name a longer path in one call, GNU tar and containerd refuse them, and
// an error message naming one would not fit in gRPC's metadata.
inline constexpr size_t kMaxEntryPathSize = 4095;

}  // namespace strata::layer

#endif  // STRATA_LIB_LAYER_LIMITS_H_
