#include "services/runtime/core/mounter.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "lib/base/errors.h"
#include "lib/base/fs.h"

namespace strata::runtime {
namespace {

// The kernel copies mount options into one page.
constexpr size_t kMaxOptionsLength = 4096 - 1;

}  // namespace

std::string OverlayOptions(const OverlayMount& mount) {
  return absl::StrCat("lowerdir=", absl::StrJoin(mount.lower_links, ":"),
                      ",upperdir=", mount.upper_dir, ",workdir=", mount.work_dir,
                      ",redirect_dir=off,metacopy=off,index=off");
}

absl::Status MountOverlay(const OverlayMount& mount) {
  const std::string options = OverlayOptions(mount);
  if (options.size() > kMaxOptionsLength) {
    return absl::FailedPreconditionError(absl::StrCat(
        "overlay mount options for ", mount.lower_links.size(), " layers take ",
        options.size(), " bytes, more than the kernel's ", kMaxOptionsLength,
        ": squash the image to fewer layers"));
  }
  absl::Status status;
  // The relative lower paths resolve against the working directory, which is shared by all
  // threads of a process: mount from a thread that has its own (unshare(CLONE_FS)).
  std::thread mounter([&] {
    if (::unshare(CLONE_FS) != 0) {
      status = ErrnoStatus(errno, "unshare(CLONE_FS)");
      return;
    }
    if (::chdir(mount.link_dir.c_str()) != 0) {
      status = ErrnoStatus(errno, "chdir " + mount.link_dir);
      return;
    }
    if (::mount("overlay", mount.target.c_str(), "overlay", 0, options.c_str()) != 0) {
      status = ErrnoStatus(errno, "mount overlay on " + mount.target);
    }
  });
  mounter.join();
  return status;
}

bool IsMountPoint(const std::string& path) {
  struct stat self, parent;
  if (::stat(path.c_str(), &self) != 0) return false;
  if (::stat(Dirname(path).c_str(), &parent) != 0) return false;
  return self.st_dev != parent.st_dev || self.st_ino == parent.st_ino;
}

absl::Status Unmount(const std::string& path) {
  // Mounts may be stacked (one left by a crash under a new one): take them all off.
  for (int attempt = 0; attempt < 16 && IsMountPoint(path); ++attempt) {
    if (::umount2(path.c_str(), 0) == 0) continue;
    if (errno == EBUSY && ::umount2(path.c_str(), MNT_DETACH) == 0) continue;
    if (errno == EINVAL || errno == ENOENT) return absl::OkStatus();
    return ErrnoStatus(errno, "unmount " + path);
  }
  return absl::OkStatus();
}

}  // namespace strata::runtime
