// Runtime::PrepareMounts: docker's -v, --mount and --tmpfs, checked at create, their mount
// points made in the init layer (a lower layer of the container's own), so neither the
// mount points nor directories made for them ever show in diff or go into a commit.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <set>

#include "absl/strings/str_cat.h"
#include "lib/base/errors.h"
#include "lib/base/fs.h"
#include "lib/layer/safe_fs.h"
#include "services/runtime/core/container_path.h"
#include "services/runtime/core/mounter.h"
#include "services/runtime/core/runtime.h"

namespace strata::runtime {

absl::Status Runtime::PrepareMounts(ContainerRecord& record) {
  if (record.mounts.empty()) return absl::OkStatus();
  std::set<std::string> targets;
  for (MountSpec& mount : record.mounts) {
    const std::string invalid =
        absl::StrCat("invalid mount config for type \"", mount.type, "\": ");
    if (mount.type != "bind" && mount.type != "tmpfs") {
      return absl::InvalidArgumentError(
          absl::StrCat("mount type \"", mount.type, "\" is not supported: bind or tmpfs"));
    }
    if (mount.target.empty()) {
      return absl::InvalidArgumentError(invalid + "field Target must not be empty");
    }
    absl::StatusOr<std::string> target = layer::CleanPath(mount.target);
    if (mount.target[0] != '/' || !target.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(invalid, "invalid mount path: '", mount.target,
                                                     "' mount path must be absolute"));
    }
    if (target->empty()) {
      return absl::InvalidArgumentError(invalid +
                                        "invalid specification: destination can't be '/'");
    }
    mount.target = "/" + *target;
    if (!targets.insert(mount.target).second) {
      return absl::InvalidArgumentError(absl::StrCat("Duplicate mount point: ", mount.target));
    }
    if (mount.type == "tmpfs") {
      if (!mount.source.empty()) {
        return absl::InvalidArgumentError(invalid + "field Source must not be specified");
      }
      continue;
    }
    if (mount.source.empty()) {
      return absl::InvalidArgumentError(invalid + "field Source must not be empty");
    }
    if (mount.source[0] != '/') {
      return absl::InvalidArgumentError(absl::StrCat(invalid, "invalid mount path: '", mount.source,
                                                     "' mount path must be absolute"));
    }
    struct stat st;
    if (::stat(mount.source.c_str(), &st) != 0) {
      if (errno != ENOENT) return ErrnoStatus(errno, "stat " + mount.source);
      if (!mount.create_source) {
        return absl::InvalidArgumentError(
            absl::StrCat(invalid, "bind source path does not exist: ", mount.source));
      }
      // docker's -v makes a missing host directory.
      RETURN_IF_ERROR(MakeDirs(mount.source, 0755));
    }
  }

  // Where each target lands in the image's tree (its symlinks followed inside the root), so
  // the mount point made in the init layer does not shadow a link of the image.
  const ContainerPaths paths = layout_.Container(record.id);
  RETURN_IF_ERROR(EnsureMounted(record));
  std::vector<std::pair<std::string, bool>> points;  // resolved path, is a directory
  {
    UniqueFd root(::open(paths.rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root.valid()) return ErrnoStatus(errno, "open " + paths.rootfs);
    for (const MountSpec& mount : record.mounts) {
      absl::StatusOr<ResolvedPath> resolved = ResolveInContainer(root.get(), mount.target, true);
      if (!resolved.ok()) {
        // A missing directory on the way is made in the init layer, as written.
        resolved = ResolvedPath{mount.target.substr(1), false, false, false};
      }
      struct stat st;
      const bool dir =
          mount.type == "tmpfs" || (::stat(mount.source.c_str(), &st) == 0 && S_ISDIR(st.st_mode));
      points.emplace_back(resolved->path, dir);
    }
  }
  RETURN_IF_ERROR(Unmount(paths.rootfs));
  UniqueFd init(::open(paths.init.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!init.valid()) return ErrnoStatus(errno, "open " + paths.init);
  for (const auto& [path, dir] : points) {
    if (dir) {
      RETURN_IF_ERROR(layer::MakeDirsInRoot(init.get(), path).status());
      continue;
    }
    const std::string parent = Dirname(path) == "." ? "" : Dirname(path);
    ASSIGN_OR_RETURN(UniqueFd parent_fd, layer::MakeDirsInRoot(init.get(), parent));
    UniqueFd file(::openat(parent_fd.get(), Basename(path).c_str(),
                           O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (!file.valid()) return ErrnoStatus(errno, "create the mount point " + path);
  }
  return absl::OkStatus();
}

}  // namespace strata::runtime
