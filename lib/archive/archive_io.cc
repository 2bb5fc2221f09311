#include "lib/archive/archive_io.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "absl/strings/str_cat.h"
#include "lib/base/errors.h"
#include "lib/base/fs.h"

namespace strata::archive {

absl::Status TarArchiveWriter::AddParents(const std::string& path) {
  for (size_t slash = path.find('/'); slash != std::string::npos;
       slash = path.find('/', slash + 1)) {
    std::string directory = path.substr(0, slash);
    if (directories_.insert(directory).second) RETURN_IF_ERROR(tar_.AddDirectory(directory));
  }
  return absl::OkStatus();
}

absl::Status TarArchiveWriter::AddFile(const std::string& path, absl::string_view contents) {
  RETURN_IF_ERROR(AddParents(path));
  return tar_.AddFile(path, contents);
}

absl::Status TarArchiveWriter::AddFile(const std::string& path, int64_t size,
                                       layer::ByteSource* source) {
  RETURN_IF_ERROR(AddParents(path));
  return tar_.AddFile(path, size, source);
}

absl::Status DirArchiveWriter::Open(const std::string& root) {
  root_ = root;
  if (::mkdir(root.c_str(), 0755) == 0) return absl::OkStatus();
  if (errno != EEXIST) return ErrnoStatus(errno, "mkdir " + root);
  struct stat st;
  if (::stat(root.c_str(), &st) != 0) return ErrnoStatus(errno, "stat " + root);
  if (!S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(root, " exists and is not a directory"));
  }
  DIR* dir = ::opendir(root.c_str());
  if (dir == nullptr) return ErrnoStatus(errno, "open " + root);
  bool empty = true;
  while (dirent* entry = ::readdir(dir)) {
    const std::string name = entry->d_name;
    if (name != "." && name != "..") empty = false;
  }
  ::closedir(dir);
  if (!empty) {
    return absl::AlreadyExistsError(absl::StrCat(
        root, " is not empty: an OCI layout is written into a new or empty directory"));
  }
  return absl::OkStatus();
}

absl::Status DirArchiveWriter::AddFile(const std::string& path, absl::string_view contents) {
  layer::StringSource source{std::string(contents)};
  return AddFile(path, static_cast<int64_t>(contents.size()), &source);
}

absl::Status DirArchiveWriter::AddFile(const std::string& path, int64_t size,
                                       layer::ByteSource* source) {
  const std::string full = absl::StrCat(root_, "/", path);
  const size_t slash = full.rfind('/');
  RETURN_IF_ERROR(MakeDirs(full.substr(0, slash)));
  UniqueFd fd(::open(full.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!fd.valid()) return ErrnoStatus(errno, "create " + full);
  layer::FdSink sink(fd.get());
  int64_t written = 0;
  for (;;) {
    ASSIGN_OR_RETURN(absl::string_view chunk, source->Read());
    if (chunk.empty()) break;
    written += static_cast<int64_t>(chunk.size());
    if (written > size) break;
    RETURN_IF_ERROR(sink.Write(chunk));
  }
  if (written != size) {
    ::unlink(full.c_str());
    return absl::DataLossError(
        absl::StrCat(path, ": ", written, " bytes, not the ", size, " it was said to have"));
  }
  return absl::OkStatus();
}

absl::Status DirArchiveWriter::Finish() { return FsyncDir(root_); }

namespace {

absl::Status ReadOne(
    const std::string& root, const std::string& path,
    const std::function<absl::Status(const std::string&, int64_t, layer::ByteSource*)>& on_member) {
  const std::string full = absl::StrCat(root, "/", path);
  UniqueFd fd(::open(full.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) return ErrnoStatus(errno, "open " + full);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return ErrnoStatus(errno, "stat " + full);
  if (!S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat(full, ": not a regular file"));
  }
  ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
  layer::FdSource source(fd.get());
  return on_member(path, st.st_size, &source);
}

absl::StatusOr<std::vector<std::string>> ListDir(const std::string& path) {
  DIR* dir = ::opendir(path.c_str());
  if (dir == nullptr) return ErrnoStatus(errno, "open " + path);
  std::vector<std::string> names;
  while (dirent* entry = ::readdir(dir)) {
    const std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  ::closedir(dir);
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

absl::Status ReadLayoutDirectory(
    const std::string& root,
    const std::function<absl::Status(const std::string&, int64_t, layer::ByteSource*)>& on_member) {
  struct stat st;
  if (::stat(absl::StrCat(root, "/oci-layout").c_str(), &st) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(root, " is a directory without an oci-layout file: not an OCI image layout"));
  }
  RETURN_IF_ERROR(ReadOne(root, "oci-layout", on_member));
  RETURN_IF_ERROR(ReadOne(root, "index.json", on_member));
  ASSIGN_OR_RETURN(std::vector<std::string> algorithms, ListDir(root + "/blobs"));
  for (const std::string& algorithm : algorithms) {
    ASSIGN_OR_RETURN(std::vector<std::string> blobs,
                     ListDir(absl::StrCat(root, "/blobs/", algorithm)));
    for (const std::string& blob : blobs) {
      RETURN_IF_ERROR(ReadOne(root, absl::StrCat("blobs/", algorithm, "/", blob), on_member));
    }
  }
  return absl::OkStatus();
}

}  // namespace strata::archive
