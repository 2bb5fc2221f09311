#include "lib/layer/tar_writer.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>

#include "absl/strings/str_cat.h"
#include "lib/base/errors.h"
#include "lib/layer/safe_fs.h"

namespace strata::layer {
namespace {

constexpr size_t kReadChunk = 1 << 20;

struct EntryDeleter {
  void operator()(archive_entry* entry) const { archive_entry_free(entry); }
};

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ReadXattrs(
    const std::string& proc_path, const std::string& path, const XattrFilter& keep) {
  std::vector<std::pair<std::string, std::string>> xattrs;
  std::string names(1024, '\0');
  ssize_t length;
  for (;;) {
    length = ::llistxattr(proc_path.c_str(), names.data(), names.size());
    if (length >= 0) break;
    if (errno == ERANGE) {
      names.resize(names.size() * 4);
      continue;
    }
    if (errno == ENOTSUP || errno == ENOENT) return xattrs;
    return ErrnoStatus(errno, absl::StrCat("list xattrs of \"/", ShortenMiddle(path), "\""));
  }
  for (size_t start = 0; start < static_cast<size_t>(length);) {
    std::string name(names.data() + start);
    start += name.size() + 1;
    if (keep && !keep(name)) continue;
    std::string value(256, '\0');
    for (;;) {
      ssize_t size = ::lgetxattr(proc_path.c_str(), name.c_str(), value.data(), value.size());
      if (size >= 0) {
        value.resize(static_cast<size_t>(size));
        break;
      }
      if (errno == ERANGE) {
        value.resize(value.size() * 4);
        continue;
      }
      if (errno == ENODATA) break;
      return ErrnoStatus(errno,
                         absl::StrCat("read xattr ", name, " of \"/", ShortenMiddle(path), "\""));
    }
    xattrs.emplace_back(std::move(name), std::move(value));
  }
  std::sort(xattrs.begin(), xattrs.end());
  return xattrs;
}

}  // namespace

absl::StatusOr<TarHeader> HeaderFromFile(int parent_fd, const std::string& name,
                                         const std::string& path, const struct stat& st,
                                         const XattrFilter& keep_xattr) {
  TarHeader header;
  header.path = path;
  header.mode = st.st_mode;
  header.uid = st.st_uid;
  header.gid = st.st_gid;
  header.mtime = st.st_mtim;
  if (S_ISREG(st.st_mode)) header.size = st.st_size;
  if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) header.rdev = st.st_rdev;
  if (S_ISLNK(st.st_mode)) {
    std::string target(static_cast<size_t>(std::max<off_t>(st.st_size, 255)) + 1, '\0');
    ssize_t length = ::readlinkat(parent_fd, name.c_str(), target.data(), target.size());
    if (length < 0)
      return ErrnoStatus(errno, absl::StrCat("readlink \"/", ShortenMiddle(path), "\""));
    target.resize(static_cast<size_t>(length));
    header.symlink_target = std::move(target);
  }
  ASSIGN_OR_RETURN(header.xattrs, ReadXattrs(ProcFdPath(parent_fd, name), path, keep_xattr));
  return header;
}

TarWriter::TarWriter(ByteSink* sink) : sink_(sink), archive_(archive_write_new()) {
  // Names go out in UTF-8 when the locale can convert them (binaries set LC_CTYPE to
  // C.UTF-8); a name that is not UTF-8 at all is written as bytes, with a warning we accept.
  archive_write_set_format_pax_restricted(archive_);
  // Unbuffered: headers and data go straight to the sink, and the archive ends right after
  // its end-of-archive blocks instead of being padded to a 10 KiB record.
  archive_write_set_bytes_per_block(archive_, 0);
  archive_write_open2(archive_, this, nullptr, &TarWriter::WriteCallback, nullptr, nullptr);
}

TarWriter::~TarWriter() { archive_write_free(archive_); }

long TarWriter::WriteCallback(struct archive*, void* client, const void* buffer, size_t length) {
  auto* writer = static_cast<TarWriter*>(client);
  absl::Status status =
      writer->sink_->Write(absl::string_view(static_cast<const char*>(buffer), length));
  if (!status.ok()) {
    writer->sink_status_ = status;
    return -1;
  }
  return static_cast<long>(length);
}

absl::Status TarWriter::ArchiveError(const char* what) {
  if (!sink_status_.ok()) return sink_status_;
  const char* message = archive_error_string(archive_);
  return absl::InternalError(absl::StrCat("tar: ", what, ": ", message ? message : "error"));
}

absl::Status TarWriter::WriteEntry(const TarHeader& header, int content_fd) {
  std::unique_ptr<archive_entry, EntryDeleter> entry(archive_entry_new());
  archive_entry_copy_pathname(entry.get(), header.path.c_str());
  archive_entry_set_uid(entry.get(), header.uid);
  archive_entry_set_gid(entry.get(), header.gid);
  archive_entry_set_mtime(entry.get(), header.mtime.tv_sec, header.mtime.tv_nsec);
  archive_entry_set_perm(entry.get(), header.mode & 07777);
  const bool is_hardlink = !header.hardlink_target.empty();
  if (is_hardlink) {
    archive_entry_set_filetype(entry.get(), AE_IFREG);
    archive_entry_copy_hardlink(entry.get(), header.hardlink_target.c_str());
    archive_entry_set_size(entry.get(), 0);
  } else {
    archive_entry_set_filetype(entry.get(), header.mode & S_IFMT);
    if (S_ISREG(header.mode)) archive_entry_set_size(entry.get(), header.size);
    if (S_ISLNK(header.mode))
      archive_entry_copy_symlink(entry.get(), header.symlink_target.c_str());
    if (S_ISCHR(header.mode) || S_ISBLK(header.mode)) {
      archive_entry_set_rdev(entry.get(), header.rdev);
    }
  }
  for (const auto& [name, value] : header.xattrs) {
    archive_entry_xattr_add_entry(entry.get(), name.c_str(), value.data(), value.size());
  }
  // ARCHIVE_WARN is a note about the header (e.g. a name in binary): the entry is written.
  if (archive_write_header(archive_, entry.get()) < ARCHIVE_WARN) {
    return ArchiveError(header.path.c_str());
  }
  if (is_hardlink || !S_ISREG(header.mode) || header.size == 0) return absl::OkStatus();

  if (buffer_.empty()) buffer_.resize(kReadChunk);
  int64_t remaining = header.size;
  bool at_end = content_fd < 0;
  while (remaining > 0) {
    size_t want = static_cast<size_t>(std::min<int64_t>(remaining, buffer_.size()));
    size_t got = 0;
    if (!at_end) {
      ssize_t n = ::read(content_fd, buffer_.data(), want);
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus(errno, absl::StrCat("read \"/", ShortenMiddle(header.path), "\""));
      }
      if (n == 0) at_end = true;
      got = static_cast<size_t>(n);
    }
    if (at_end) {
      // The file shrank after its header was written: pad to the promised size.
      std::fill(buffer_.begin(), buffer_.begin() + want, '\0');
      got = want;
    }
    if (archive_write_data(archive_, buffer_.data(), got) < 0) {
      return ArchiveError(header.path.c_str());
    }
    remaining -= static_cast<int64_t>(got);
  }
  return absl::OkStatus();
}

absl::Status TarWriter::Finish() {
  if (finished_) return absl::OkStatus();
  finished_ = true;
  if (archive_write_close(archive_) != ARCHIVE_OK) return ArchiveError("close");
  return absl::OkStatus();
}

}  // namespace strata::layer
