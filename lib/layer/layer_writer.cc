#include "lib/layer/layer_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "lib/base/errors.h"
#include "lib/base/fs.h"
#include "lib/layer/safe_fs.h"
#include "lib/layer/tar_writer.h"
#include "lib/layer/tree_walker.h"
#include "lib/layer/whiteout.h"

namespace strata::layer {
namespace {

bool KeepXattr(const std::string& name) { return !absl::StartsWith(name, kOverlayXattrPrefix); }

// Writes the entries of a tree walk to a TarWriter, turning repeated inodes into hard links.
class TreeArchiver {
 public:
  explicit TreeArchiver(TarWriter* tar, bool convert_overlay)
      : tar_(tar), convert_overlay_(convert_overlay) {}

  absl::StatusOr<Visit> Add(const TreeEntry& entry) {
    ++entries_;
    if (convert_overlay_ && IsWhiteoutDevice(entry.st)) {
      // Overlay deletion marker: an empty regular file named .wh.<name>, as docker writes it.
      TarHeader header;
      header.path = WhiteoutPath(entry.path);
      header.mode = S_IFREG | 0600;
      header.mtime = entry.st.st_mtim;
      RETURN_IF_ERROR(tar_->WriteEntry(header));
      return Visit::kContinue;
    }
    ASSIGN_OR_RETURN(TarHeader header,
                     HeaderFromFile(entry.parent_fd, entry.name, entry.path, entry.st, KeepXattr));
    const bool linked = S_ISREG(entry.st.st_mode) && entry.st.st_nlink > 1;
    const std::pair<dev_t, ino_t> inode{entry.st.st_dev, entry.st.st_ino};
    if (linked) {
      auto first = first_links_.find(inode);
      if (first != first_links_.end()) {
        header.hardlink_target = first->second;
        RETURN_IF_ERROR(tar_->WriteEntry(header));
        return Visit::kContinue;
      }
    }
    if (S_ISREG(entry.st.st_mode) && entry.st.st_size > 0) {
      // O_NONBLOCK: in a live container the name may meanwhile be a FIFO, which must not hang
      // us; and whatever was opened must still be the regular file the walk saw, never a
      // device swapped in under its name.
      UniqueFd content(::openat(entry.parent_fd, entry.name.c_str(),
                                O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOATIME));
      if (!content.valid() && errno == EPERM) {
        content.Reset(::openat(entry.parent_fd, entry.name.c_str(),
                               O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
      }
      if (!content.valid()) {
        if (errno == ENOENT) return Visit::kContinue;
        return ErrnoStatus(errno, absl::StrCat("open \"/", ShortenMiddle(entry.path), "\""));
      }
      struct stat opened;
      if (::fstat(content.get(), &opened) != 0) {
        return ErrnoStatus(errno, absl::StrCat("stat \"/", ShortenMiddle(entry.path), "\""));
      }
      if (!S_ISREG(opened.st_mode) || opened.st_dev != entry.st.st_dev ||
          opened.st_ino != entry.st.st_ino) {
        return Visit::kContinue;  // replaced while we walked: not the file we described
      }
      ::posix_fadvise(content.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
      RETURN_IF_ERROR(tar_->WriteEntry(header, content.get()));
      if (linked) first_links_.emplace(inode, entry.path);
      return Visit::kContinue;
    }
    RETURN_IF_ERROR(tar_->WriteEntry(header));
    if (linked) first_links_.emplace(inode, entry.path);
    if (convert_overlay_ && S_ISDIR(entry.st.st_mode) &&
        IsOpaqueDirectory(ProcFdPath(entry.parent_fd, entry.name))) {
      // Opaque directory: everything below it in lower layers is hidden.
      TarHeader opaque;
      opaque.path = absl::StrCat(entry.path, "/", kOpaqueWhiteoutName);
      opaque.mode = S_IFREG | (entry.st.st_mode & 0777);
      opaque.uid = entry.st.st_uid;
      opaque.gid = entry.st.st_gid;
      opaque.mtime = entry.st.st_mtim;
      RETURN_IF_ERROR(tar_->WriteEntry(opaque));
      ++entries_;
    }
    return Visit::kContinue;
  }

  uint64_t entries() const { return entries_; }

 private:
  TarWriter* tar_;
  bool convert_overlay_;
  std::map<std::pair<dev_t, ino_t>, std::string> first_links_;
  uint64_t entries_ = 0;
};

}  // namespace

absl::StatusOr<LayerDigests> WriteOverlayUpperAsLayer(int upper_fd,
                                                      const LayerWriteOptions& options,
                                                      ByteSink* sink) {
  HashingSink compressed(sink);
  ASSIGN_OR_RETURN(
      std::unique_ptr<ByteSink> compressor,
      NewCompressingSink(options.compression, &compressed, options.level, options.threads));
  HashingSink uncompressed(compressor.get());
  TarWriter tar(&uncompressed);
  TreeArchiver archiver(&tar, /*convert_overlay=*/true);
  RETURN_IF_ERROR(
      WalkTree(upper_fd, [&archiver](const TreeEntry& entry) { return archiver.Add(entry); }));
  RETURN_IF_ERROR(tar.Finish());
  RETURN_IF_ERROR(uncompressed.Close());
  LayerDigests digests;
  digests.uncompressed_size = uncompressed.size();
  digests.diff_id = uncompressed.Finish();
  digests.size = compressed.size();
  digests.digest = compressed.Finish();
  digests.entries = archiver.entries();
  return digests;
}

absl::StatusOr<uint64_t> WriteTreeAsTar(int root_fd, ByteSink* sink) {
  TarWriter tar(sink);
  TreeArchiver archiver(&tar, /*convert_overlay=*/false);
  RETURN_IF_ERROR(
      WalkTree(root_fd, [&archiver](const TreeEntry& entry) { return archiver.Add(entry); }));
  RETURN_IF_ERROR(tar.Finish());
  return archiver.entries();
}

absl::StatusOr<uint64_t> WriteEntryAsTar(int parent_fd, const std::string& name,
                                         const std::string& archive_name, ByteSink* sink) {
  TarWriter tar(sink);
  TreeArchiver archiver(&tar, /*convert_overlay=*/false);
  RETURN_IF_ERROR(WalkEntry(parent_fd, name, archive_name,
                            [&archiver](const TreeEntry& entry) { return archiver.Add(entry); }));
  RETURN_IF_ERROR(tar.Finish());
  return archiver.entries();
}

}  // namespace strata::layer
