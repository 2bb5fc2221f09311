#ifndef STRATA_SERVICES_RUNTIME_CORE_MOUNTER_H_
#define STRATA_SERVICES_RUNTIME_CORE_MOUNTER_H_

// Overlay mounts for containers. The lower directories are named by their short links,
// relative to the link directory (the mount runs on a thread with its own working
// directory), so the options of a mount with hundreds of layers stay under the one page the
// kernel accepts. The options keep the upper directory a complete record of the changes:
// redirect_dir=off (a renamed lower directory is copied up whole, plus a whiteout),
// metacopy=off (a changed file is copied up whole), index=off.

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace strata::runtime {

struct OverlayMount {
  // Directory holding the short links.
  std::string link_dir;
  // Link names, top-first (the layer right below the upper directory first).
  std::vector<std::string> lower_links;
  std::string upper_dir;
  std::string work_dir;
  std::string target;
};

// The mount(2) options for the mount.
std::string OverlayOptions(const OverlayMount& mount);

// Errors: FAILED_PRECONDITION when the options do not fit in a page (too many layers),
// errno-based errors from mount(2).
absl::Status MountOverlay(const OverlayMount& mount);

// True when something is mounted at path.
bool IsMountPoint(const std::string& path);

// Unmounts path (lazily when busy). Not mounted is fine.
absl::Status Unmount(const std::string& path);

}  // namespace strata::runtime

#endif  // STRATA_SERVICES_RUNTIME_CORE_MOUNTER_H_
