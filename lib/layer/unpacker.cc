#include "lib/layer/unpacker.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "lib/base/errors.h"
#include "lib/base/fs.h"
#include "lib/layer/layer_reader.h"
#include "lib/layer/safe_fs.h"
#include "lib/layer/whiteout.h"

namespace strata::layer {
namespace {

// Splits a cleaned relative path into its parent and last component.
std::pair<std::string, std::string> SplitPath(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return {"", path};
  return {path.substr(0, slash), path.substr(slash + 1)};
}

absl::Status Invalid(const std::string& entry, absl::string_view problem) {
  return absl::InvalidArgumentError(
      absl::StrCat("layer entry \"", ShortenMiddle(entry), "\": ", problem));
}

class Unpacker {
 public:
  Unpacker(int root_fd, LayerReader* reader, const UnpackOptions& options)
      : root_fd_(root_fd),
        reader_(reader),
        lower_layers_(options.lower_layers),
        plain_files_(options.plain_files),
        owner_(options.owner),
        rebase_from_(options.rebase_from),
        rebase_to_(options.rebase_to) {}

  // rebase_from/... -> rebase_to/... (a cleaned path).
  std::string Rebase(const std::string& path) const {
    if (rebase_from_.empty() || rebase_from_ == rebase_to_) return path;
    if (path == rebase_from_) return rebase_to_;
    if (path.size() > rebase_from_.size() && path.compare(0, rebase_from_.size(), rebase_from_) == 0 &&
        path[rebase_from_.size()] == '/') {
      return rebase_to_ + path.substr(rebase_from_.size());
    }
    return path;
  }

  absl::Status Entry(archive_entry* entry) {
    const char* raw_name = EntryPath(entry);
    if (raw_name == nullptr) return absl::InvalidArgumentError("layer entry without a path");
    const std::string name = raw_name;
    absl::StatusOr<std::string> cleaned = CleanPath(name);
    if (!cleaned.ok()) return Invalid(name, cleaned.status().message());
    const std::string path = Rebase(*cleaned);
    if (path.empty()) return plain_files_ ? absl::OkStatus() : ApplyRootMetadata(entry);

    auto [parent, base] = SplitPath(path);
    if (plain_files_ && absl::StartsWith(base, kWhiteoutPrefix)) {
      return Invalid(name, "a name starting with \".wh.\" is a whiteout in a layer: refused");
    }
    if (base == kOpaqueWhiteoutName) return MarkOpaque(parent);
    if (absl::StartsWith(base, ".wh..wh.")) return absl::OkStatus();  // aufs bookkeeping
    if (absl::StartsWith(base, kWhiteoutPrefix)) {
      const std::string target = base.substr(sizeof(kWhiteoutPrefix) - 1);
      if (target.empty() || target == "." || target == "..") {
        return Invalid(name, "whiteout of an invalid name");
      }
      // Written at the end, once every entry of the layer is known (see unpacker.h).
      whiteouts_.push_back(parent.empty() ? target : absl::StrCat(parent, "/", target));
      return absl::OkStatus();
    }
    RETURN_IF_ERROR(ValidateLayerEntry(entry));

    ASSIGN_OR_RETURN(int parent_fd, ParentDir(parent));
    const char* hardlink = EntryHardlink(entry);
    if (hardlink != nullptr && *hardlink != '\0') {
      absl::StatusOr<std::string> link_target = CleanPath(hardlink);
      return Hardlink(parent_fd, base, path,
                      link_target.ok() ? Rebase(*link_target) : std::string(hardlink));
    }
    const mode_t type = archive_entry_filetype(entry);
    switch (type) {
      case AE_IFDIR:
        return Directory(entry, parent_fd, base, path);
      case AE_IFREG:
        return RegularFile(entry, parent_fd, base, path);
      case AE_IFLNK:
        return Symlink(entry, parent_fd, base, path);
      case AE_IFCHR:
      case AE_IFBLK:
      case AE_IFIFO:
        return Node(entry, parent_fd, base, path, type);
      default:
        return Invalid(name, absl::StrCat("unsupported file type ", type));
    }
  }

  // Whiteouts and opaque markers, then directory mtimes (creating their children, whiteouts
  // included, would change them again).
  absl::Status Finish() {
    ForgetCachedParent();
    RETURN_IF_ERROR(WriteWhiteouts());
    for (auto it = directory_times_.rbegin(); it != directory_times_.rend(); ++it) {
      absl::StatusOr<UniqueFd> dir = OpenInRoot(root_fd_, it->first, O_RDONLY | O_DIRECTORY);
      if (!dir.ok()) continue;  // replaced by a later entry
      const struct timespec times[2] = {it->second, it->second};
      ::futimens(dir->get(), times);
    }
    return absl::OkStatus();
  }

 private:
  // The parent directory of an entry, created when missing; the last one is cached, since
  // tar entries come grouped by directory.
  absl::StatusOr<int> ParentDir(const std::string& parent) {
    if (cache_valid_ && cached_parent_ == parent) return cached_parent_fd_.get();
    ASSIGN_OR_RETURN(cached_parent_fd_, MakeDirsInRoot(root_fd_, parent));
    cached_parent_ = parent;
    cache_valid_ = true;
    return cached_parent_fd_.get();
  }

  // Entries that replace a directory or create a symlink can change what a cached parent
  // path resolves to. The descriptor stays open: the entry being written still uses it.
  void ForgetCachedParent() { cache_valid_ = false; }

  // The marker says the directory exists and hides what is below it; the xattr is set at
  // the end, with the whiteouts.
  absl::Status MarkOpaque(const std::string& dir) {
    ForgetCachedParent();
    ASSIGN_OR_RETURN(UniqueFd path_fd, MakeDirsInRoot(root_fd_, dir));
    opaque_dirs_.insert(dir);
    return absl::OkStatus();
  }

  // True when the layer makes path's parent, or a directory above it, opaque.
  bool UnderOpaqueDirectory(const std::string& path) const {
    if (opaque_dirs_.count("") > 0) return true;
    for (size_t slash = path.find('/'); slash != std::string::npos;
         slash = path.find('/', slash + 1)) {
      if (opaque_dirs_.count(path.substr(0, slash)) > 0) return true;
    }
    return false;
  }

  // Whether the layers below show something at path, as overlayfs looks it up: top first, a
  // whiteout hides it, an opaque directory on the way ends the search below that layer, a
  // non-directory on the way means there is no such path. Unknown lower layers: assume so.
  bool VisibleBelow(const std::string& path) const {
    if (!lower_layers_.has_value()) return true;
    const std::vector<std::string> parts = absl::StrSplit(path, '/');
    for (const int lower : *lower_layers_) {
      int dir = lower;
      UniqueFd held;
      bool opaque_on_the_way = false;
      for (size_t i = 0; i < parts.size(); ++i) {
        struct stat st;
        if (::fstatat(dir, parts[i].c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) break;
        if (IsWhiteoutDevice(st)) return false;
        if (i + 1 == parts.size()) return true;
        if (!S_ISDIR(st.st_mode)) return false;
        UniqueFd next(
            ::openat(dir, parts[i].c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!next.valid()) return true;  // cannot tell: a whiteout too many is harmless
        char value[4];
        if (::fgetxattr(next.get(), kOverlayOpaqueXattr, value, sizeof(value)) == 1 &&
            value[0] == 'y') {
          opaque_on_the_way = true;
        }
        held = std::move(next);
        dir = held.get();
      }
      if (opaque_on_the_way) return false;
    }
    return false;
  }

  absl::Status WriteWhiteouts() {
    // A whiteout of a directory the layer creates itself: the lower directory is gone, the
    // new one must not merge with it.
    for (const std::string& path : whiteouts_) {
      absl::StatusOr<UniqueFd> existing =
          OpenInRoot(root_fd_, path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
      struct stat st;
      if (existing.ok() && ::fstat(existing->get(), &st) == 0 && S_ISDIR(st.st_mode)) {
        opaque_dirs_.insert(path);
      }
    }
    const bool anything_below = !lower_layers_.has_value() || !lower_layers_->empty();
    for (const std::string& path : whiteouts_) {
      if (!anything_below || UnderOpaqueDirectory(path)) continue;
      auto [parent, base] = SplitPath(path);
      absl::StatusOr<UniqueFd> parent_fd =
          OpenInRoot(root_fd_, parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (!parent_fd.ok()) {
        if (!absl::IsNotFound(parent_fd.status())) continue;  // a non-directory replaces it
        parent_fd = MakeDirsInRoot(root_fd_, parent);
        if (!parent_fd.ok()) continue;
      }
      struct stat st;
      // What the layer creates itself replaces the lower entry: no whiteout needed.
      if (::fstatat(parent_fd->get(), base.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) continue;
      if (!VisibleBelow(path)) continue;
      if (::mknodat(parent_fd->get(), base.c_str(), S_IFCHR | 0, makedev(0, 0)) != 0) {
        return ErrnoStatus(errno, absl::StrCat("whiteout \"/", ShortenMiddle(path), "\""));
      }
    }
    if (!anything_below) return absl::OkStatus();
    for (const std::string& dir : opaque_dirs_) {
      absl::StatusOr<UniqueFd> dir_fd =
          OpenInRoot(root_fd_, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (!dir_fd.ok()) continue;  // replaced by a non-directory later in the layer
      if (::fsetxattr(dir_fd->get(), kOverlayOpaqueXattr, "y", 1, 0) != 0) {
        return ErrnoStatus(errno, absl::StrCat("mark \"/", ShortenMiddle(dir), "\" opaque"));
      }
    }
    return absl::OkStatus();
  }

  absl::Status Metadata(archive_entry* entry, int fd, int parent_fd, const std::string& base,
                        const std::string& path, bool is_symlink) {
    const uid_t uid = owner_ ? owner_->first : static_cast<uid_t>(archive_entry_uid(entry));
    const gid_t gid = owner_ ? owner_->second : static_cast<gid_t>(archive_entry_gid(entry));
    const mode_t perm = archive_entry_perm(entry);
    if (fd >= 0) {
      if (::fchown(fd, uid, gid) != 0) return ErrnoStatus(errno, "chown \"/" + path + "\"");
      // After chown, which clears set-id bits.
      if (::fchmod(fd, perm) != 0) return ErrnoStatus(errno, "chmod \"/" + path + "\"");
    } else {
      if (::fchownat(parent_fd, base.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW) != 0) {
        return ErrnoStatus(errno, "chown \"/" + path + "\"");
      }
      if (!is_symlink && ::fchmodat(parent_fd, base.c_str(), perm, 0) != 0) {
        return ErrnoStatus(errno, "chmod \"/" + path + "\"");
      }
    }
    const char* xattr_name = nullptr;
    const void* value = nullptr;
    size_t size = 0;
    archive_entry_xattr_reset(entry);
    while (archive_entry_xattr_next(entry, &xattr_name, &value, &size) == ARCHIVE_OK) {
      if (absl::StartsWith(xattr_name, kOverlayXattrPrefix)) continue;
      int result =
          fd >= 0 ? ::fsetxattr(fd, xattr_name, value, size, 0)
                  : ::lsetxattr(ProcFdPath(parent_fd, base).c_str(), xattr_name, value, size, 0);
      // user.* xattrs are not permitted on symlinks and devices; nothing to keep there.
      if (result != 0 && !(errno == EPERM && fd < 0)) {
        return ErrnoStatus(
            errno, absl::StrCat("set xattr ", xattr_name, " on \"/", ShortenMiddle(path), "\""));
      }
    }
    return absl::OkStatus();
  }

  static struct timespec Mtime(archive_entry* entry) {
    struct timespec time {};
    time.tv_sec = archive_entry_mtime(entry);
    time.tv_nsec = archive_entry_mtime_nsec(entry);
    return time;
  }

  absl::Status SetTimesAt(int parent_fd, const std::string& base, archive_entry* entry) {
    const struct timespec times[2] = {Mtime(entry), Mtime(entry)};
    ::utimensat(parent_fd, base.c_str(), times, AT_SYMLINK_NOFOLLOW);
    return absl::OkStatus();
  }

  absl::Status ApplyRootMetadata(archive_entry* entry) {
    if (archive_entry_filetype(entry) != AE_IFDIR) return absl::OkStatus();
    ASSIGN_OR_RETURN(UniqueFd root, OpenInRoot(root_fd_, "", O_RDONLY | O_DIRECTORY));
    RETURN_IF_ERROR(Metadata(entry, root.get(), -1, "", "", false));
    directory_times_.emplace_back("", Mtime(entry));
    return absl::OkStatus();
  }

  absl::Status Directory(archive_entry* entry, int parent_fd, const std::string& base,
                         const std::string& path) {
    struct stat st;
    const bool exists = ::fstatat(parent_fd, base.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
    if (plain_files_ && exists && !S_ISDIR(st.st_mode)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "cannot overwrite non-directory \"/", ShortenMiddle(path), "\" with directory"));
    }
    if (plain_files_ && exists) return absl::OkStatus();  // merged into, as docker cp does
    if (!exists || !S_ISDIR(st.st_mode)) {
      ForgetCachedParent();
      RETURN_IF_ERROR(RemoveAllAt(parent_fd, base));
      if (::mkdirat(parent_fd, base.c_str(), 0700) != 0) {
        return ErrnoStatus(errno, "mkdir \"/" + path + "\"");
      }
    }
    UniqueFd dir(
        ::openat(parent_fd, base.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dir.valid()) return ErrnoStatus(errno, "open \"/" + path + "\"");
    RETURN_IF_ERROR(Metadata(entry, dir.get(), parent_fd, base, path, false));
    directory_times_.emplace_back(path, Mtime(entry));
    return absl::OkStatus();
  }

  absl::Status RegularFile(archive_entry* entry, int parent_fd, const std::string& base,
                           const std::string& path) {
    RETURN_IF_ERROR(ReplaceExisting(parent_fd, base));
    UniqueFd file(::openat(parent_fd, base.c_str(),
                           O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!file.valid()) return ErrnoStatus(errno, "create \"/" + path + "\"");
    absl::string_view data;
    int64_t offset = 0;
    for (;;) {
      ASSIGN_OR_RETURN(bool more, reader_->NextBlock(&data, &offset));
      if (!more) break;
      while (!data.empty()) {
        ssize_t n = ::pwrite(file.get(), data.data(), data.size(), offset);
        if (n < 0) {
          if (errno == EINTR) continue;
          return ErrnoStatus(errno, "write \"/" + path + "\"");
        }
        data.remove_prefix(static_cast<size_t>(n));
        offset += n;
      }
    }
    // Sparse files end in a hole that no block covered.
    if (::ftruncate(file.get(), archive_entry_size(entry)) != 0) {
      return ErrnoStatus(errno, "truncate \"/" + path + "\"");
    }
    RETURN_IF_ERROR(Metadata(entry, file.get(), parent_fd, base, path, false));
    const struct timespec times[2] = {Mtime(entry), Mtime(entry)};
    ::futimens(file.get(), times);
    return absl::OkStatus();
  }

  absl::Status Symlink(archive_entry* entry, int parent_fd, const std::string& base,
                       const std::string& path) {
    const char* target = EntrySymlink(entry);
    if (target == nullptr) return Invalid(path, "symlink without a target");
    ForgetCachedParent();
    RETURN_IF_ERROR(ReplaceExisting(parent_fd, base));
    if (::symlinkat(target, parent_fd, base.c_str()) != 0) {
      return ErrnoStatus(errno, "symlink \"/" + path + "\"");
    }
    RETURN_IF_ERROR(Metadata(entry, -1, parent_fd, base, path, true));
    return SetTimesAt(parent_fd, base, entry);
  }

  absl::Status Node(archive_entry* entry, int parent_fd, const std::string& base,
                    const std::string& path, mode_t type) {
    RETURN_IF_ERROR(ReplaceExisting(parent_fd, base));
    const dev_t device = type == AE_IFIFO ? 0 : archive_entry_rdev(entry);
    if (::mknodat(parent_fd, base.c_str(), type | 0600, device) != 0) {
      return ErrnoStatus(errno, "mknod \"/" + path + "\"");
    }
    RETURN_IF_ERROR(Metadata(entry, -1, parent_fd, base, path, false));
    return SetTimesAt(parent_fd, base, entry);
  }

  absl::Status Hardlink(int parent_fd, const std::string& base, const std::string& path,
                        const std::string& target_name) {
    absl::StatusOr<std::string> target = CleanPath(target_name);
    if (!target.ok() || target->empty()) {
      return Invalid(path, absl::StrCat("hard link to \"", ShortenMiddle(target_name),
                                        "\" outside the layer"));
    }
    auto [target_parent, target_base] = SplitPath(*target);
    absl::StatusOr<UniqueFd> target_dir = OpenInRoot(root_fd_, target_parent, O_PATH | O_DIRECTORY);
    if (!target_dir.ok()) {
      return Invalid(path, absl::StrCat("hard link to missing \"", *target, "\""));
    }
    RETURN_IF_ERROR(ReplaceExisting(parent_fd, base));
    // linkat without AT_SYMLINK_FOLLOW links a symlink itself, never what it points to.
    if (::linkat(target_dir->get(), target_base.c_str(), parent_fd, base.c_str(), 0) != 0) {
      if (errno == ENOENT) {
        return Invalid(path, absl::StrCat("hard link to missing \"", *target, "\""));
      }
      return ErrnoStatus(errno, "link \"/" + path + "\"");
    }
    return absl::OkStatus();
  }

  absl::Status ReplaceExisting(int parent_fd, const std::string& base) {
    struct stat st;
    if (::fstatat(parent_fd, base.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      return absl::OkStatus();
    }
    if (plain_files_ && S_ISDIR(st.st_mode)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "cannot overwrite directory \"/", ShortenMiddle(base), "\" with non-directory"));
    }
    if (S_ISDIR(st.st_mode)) ForgetCachedParent();
    return RemoveAllAt(parent_fd, base);
  }

  const int root_fd_;
  LayerReader* reader_;
  const std::optional<std::vector<int>> lower_layers_;
  const bool plain_files_;
  const std::optional<std::pair<uint32_t, uint32_t>> owner_;
  const std::string rebase_from_;
  const std::string rebase_to_;
  // Paths the layer's ".wh." entries delete, and the directories it makes opaque.
  std::vector<std::string> whiteouts_;
  std::set<std::string> opaque_dirs_;
  std::string cached_parent_;
  UniqueFd cached_parent_fd_;
  bool cache_valid_ = false;
  std::vector<std::pair<std::string, struct timespec>> directory_times_;
};

}  // namespace

absl::StatusOr<UnpackStats> UnpackLayer(ByteSource* source, int root_fd,
                                        const UnpackOptions& options) {
  LayerReader reader(source);
  Unpacker unpacker(root_fd, &reader, options);
  UnpackStats stats;
  for (;;) {
    ASSIGN_OR_RETURN(archive_entry * entry, reader.NextEntry());
    if (entry == nullptr) break;
    RETURN_IF_ERROR(unpacker.Entry(entry));
    ++stats.entries;
  }
  RETURN_IF_ERROR(reader.Finish());
  RETURN_IF_ERROR(unpacker.Finish());
  stats.compression = reader.compression();
  stats.diff_id = reader.diff_id();
  stats.uncompressed_size = reader.uncompressed_size();
  return stats;
}

}  // namespace strata::layer
