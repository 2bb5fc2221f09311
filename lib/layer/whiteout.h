#ifndef STRATA_LIB_LAYER_WHITEOUT_H_
#define STRATA_LIB_LAYER_WHITEOUT_H_

// The two spellings of a deletion. In an OCI layer tar: an empty file ".wh.<name>" deletes
// <name> from the layers below, and ".wh..wh..opq" in a directory hides everything below it.
// On disk under overlayfs: a 0/0 character device deletes, and the xattr
// trusted.overlay.opaque=y makes a directory opaque.

#include <sys/stat.h>

#include <string>

#include "absl/strings/string_view.h"

namespace strata::layer {

inline constexpr char kWhiteoutPrefix[] = ".wh.";
inline constexpr char kOpaqueWhiteoutName[] = ".wh..wh..opq";
inline constexpr char kOverlayXattrPrefix[] = "trusted.overlay.";
inline constexpr char kOverlayOpaqueXattr[] = "trusted.overlay.opaque";

// A 0/0 character device: overlayfs's whiteout. Test this before treating an entry as a hard
// link: the kernel may give every whiteout the same inode.
bool IsWhiteoutDevice(const struct stat& st);

// True when the directory at path (not followed if a symlink) carries trusted.overlay.opaque=y.
bool IsOpaqueDirectory(const std::string& path);

// "a/b" -> "a/.wh.b".
std::string WhiteoutPath(absl::string_view path);

}  // namespace strata::layer

#endif  // STRATA_LIB_LAYER_WHITEOUT_H_
