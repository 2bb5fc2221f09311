#ifndef STRATA_LIB_LAYER_TAR_WRITER_H_
#define STRATA_LIB_LAYER_TAR_WRITER_H_

// Writes a tar stream (POSIX pax, extended headers only where needed) to a ByteSink, one
// entry at a time; file contents are streamed from a descriptor, never held whole. Built on
// libarchive, unbuffered: libarchive hands each header and data chunk straight to the sink.

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/layer/stream.h"

struct archive;

namespace strata::layer {

struct TarHeader {
  // Relative path inside the archive ("etc/passwd"); directories get a trailing "/".
  std::string path;
  // File type and permission bits, as st_mode.
  mode_t mode = 0;
  uid_t uid = 0;
  gid_t gid = 0;
  // Regular files: the number of content bytes that follow.
  int64_t size = 0;
  struct timespec mtime {};
  // Symlinks: the target, verbatim.
  std::string symlink_target;
  // Hard links: the archive path of the entry this one links to.
  std::string hardlink_target;
  // Character and block devices.
  dev_t rdev = 0;
  // Extended attributes, name -> value.
  std::vector<std::pair<std::string, std::string>> xattrs;
};

// Which extended attributes to keep; the default keeps all.
using XattrFilter = std::function<bool(const std::string& name)>;

// A header describing the file (parent_fd, name) with stat st, for archive path `path`:
// type, mode, owner, size, mtime, symlink target, rdev and the xattrs the filter keeps.
// Errors: from errno, naming the path.
absl::StatusOr<TarHeader> HeaderFromFile(int parent_fd, const std::string& name,
                                         const std::string& path, const struct stat& st,
                                         const XattrFilter& keep_xattr = nullptr);

class TarWriter {
 public:
  explicit TarWriter(ByteSink* sink);
  ~TarWriter();
  TarWriter(const TarWriter&) = delete;
  TarWriter& operator=(const TarWriter&) = delete;

  // Writes one entry. For a regular file that is not a hard link, exactly header.size bytes
  // of content follow from content_fd: a file that shrank meanwhile is padded with zeros, one
  // that grew is cut at header.size (a live container may be writing to it).
  // Errors: INTERNAL from libarchive, the sink's errors, errno from reading content_fd.
  absl::Status WriteEntry(const TarHeader& header, int content_fd = -1);

  // Ends the archive (the two zero blocks). The sink is not closed.
  absl::Status Finish();

 private:
  absl::Status ArchiveError(const char* what);
  static long WriteCallback(struct archive*, void* client, const void* buffer, size_t length);

  ByteSink* sink_;
  struct archive* archive_;
  absl::Status sink_status_;
  std::string buffer_;
  bool finished_ = false;
};

}  // namespace strata::layer

#endif  // STRATA_LIB_LAYER_TAR_WRITER_H_
