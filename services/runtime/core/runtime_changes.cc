// The Runtime operations that read a container's file system: Diff, Commit, Export and
// CopyFrom.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dirent.h>

#include <cerrno>
#include <set>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "lib/base/errors.h"
#include "lib/base/fs.h"
#include "lib/base/log.h"
#include "lib/layer/layer_writer.h"
#include "lib/layer/safe_fs.h"
#include "lib/layer/unpacker.h"
#include "services/runtime/core/container_path.h"
#include "services/runtime/core/runtime.h"

namespace strata::runtime {

absl::StatusOr<std::vector<layer::Change>> Runtime::Diff(const std::string& container) {
  ASSIGN_OR_RETURN(std::shared_ptr<Entry> entry, Find(container));
  absl::ReaderMutexLock op(&entry->op_mu);
  ContainerRecord record = RecordOf(*entry);
  return layer::OverlayChanges(layout_.Container(record.id).upper, LowerDirs(record));
}

absl::StatusOr<layer::LayerDigests> Runtime::UploadUpper(int upper_fd,
                                                         const ContainerRecord& record,
                                                         const CommitOptions& options) {
  absl::StatusOr<std::unique_ptr<BlobUpload>> upload = blobs_->StartLeasedUpload(
      absl::StrCat("commit-", record.id.substr(0, 16), "-", absl::ToUnixNanos(absl::Now())),
      options.lease);
  if (!upload.ok()) return Annotate(upload.status(), "commit: layerstore");
  absl::StatusOr<layer::LayerDigests> digests = layer::WriteOverlayUpperAsLayer(
      upper_fd, {.compression = options.compression}, upload->get());
  if (!digests.ok()) {
    (*upload)->Abort();
    return Annotate(digests.status(), absl::StrCat("commit of container \"", record.name, "\""));
  }
  absl::Status committed = (*upload)->Commit(digests->digest, static_cast<int64_t>(digests->size));
  if (!committed.ok()) {
    (*upload)->Abort();
    return Annotate(committed, "commit: storing the layer");
  }
  return digests;
}

absl::StatusOr<CommitResult> Runtime::Commit(const std::string& container,
                                             const CommitOptions& options) {
  ASSIGN_OR_RETURN(std::shared_ptr<Entry> entry, Find(container));
  absl::WriterMutexLock op(&entry->op_mu);
  ContainerRecord record = RecordOf(*entry);
  // A running container is frozen so the layer is one consistent moment; a paused one stays
  // paused; with pause=false it is committed live.
  const bool freeze = options.pause && record.state == ContainerState::kRunning;
  if (freeze) RETURN_IF_ERROR(Runc({"pause", record.id}));
  auto thaw = [&]() {
    if (!freeze) return;
    absl::Status resumed = Runc({"resume", record.id});
    if (!resumed.ok()) STRATA_LOG(ERROR) << "commit " << record.name << ": " << resumed;
  };

  const std::string upper = layout_.Container(record.id).upper;
  UniqueFd upper_fd(::open(upper.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!upper_fd.valid()) {
    thaw();
    return ErrnoStatus(errno, "open " + upper);
  }
  const absl::Time started = absl::Now();
  // With layerstore replicas, one that goes away mid-upload (UNAVAILABLE) takes the upload
  // with it; the layer is streamed again, which round_robin sends to a replica still up. The
  // container stays frozen across attempts, so each writes the same layer.
  constexpr int kUploadAttempts = 3;
  absl::StatusOr<layer::LayerDigests> digests;
  for (int attempt = 1;; ++attempt) {
    digests = UploadUpper(upper_fd.get(), record, options);
    if (digests.ok() || !absl::IsUnavailable(digests.status()) || attempt == kUploadAttempts) {
      break;
    }
    STRATA_LOG(WARNING) << "commit " << record.name << ": attempt " << attempt << " of "
                        << kUploadAttempts << ": " << digests.status() << "; streaming it again";
    // A moment for the channel to notice which replicas are up (it fails fast meanwhile).
    absl::SleepFor(absl::Milliseconds(500) * attempt);
  }
  thaw();
  if (!digests.ok()) return digests.status();
  STRATA_LOG(INFO) << "committed container " << record.name << ": " << digests->entries
                   << " entries, " << digests->uncompressed_size << " bytes -> " << digests->size
                   << " " << layer::CompressionName(options.compression) << " in "
                   << absl::FormatDuration(absl::Now() - started);
  CommitResult result;
  result.layer.digest = digests->digest;
  result.layer.diff_id = digests->diff_id;
  ASSIGN_OR_RETURN(result.layer.media_type, layer::LayerMediaType(options.compression));
  result.layer.size = static_cast<int64_t>(digests->size);
  result.layer.uncompressed_size = static_cast<int64_t>(digests->uncompressed_size);
  result.spec = record.spec;
  result.args = record.args;
  result.image_id = record.image_id;
  result.empty = digests->entries == 0;
  return result;
}

absl::StatusOr<UniqueFd> Runtime::OpenRootfs(Entry& entry, ContainerRecord* record) {
  *record = RecordOf(entry);
  RETURN_IF_ERROR(EnsureMounted(*record));
  const std::string rootfs = layout_.Container(record->id).rootfs;
  UniqueFd root_fd(::open(rootfs.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root_fd.valid()) return ErrnoStatus(errno, "open " + rootfs);
  return root_fd;
}

absl::Status Runtime::Export(const std::string& container, layer::ByteSink* sink) {
  ASSIGN_OR_RETURN(std::shared_ptr<Entry> entry, Find(container));
  absl::ReaderMutexLock op(&entry->op_mu);
  ContainerRecord record;
  ASSIGN_OR_RETURN(UniqueFd root_fd, OpenRootfs(*entry, &record));
  return layer::WriteTreeAsTar(root_fd.get(), sink).status();
}


absl::Status Runtime::CopyFrom(const std::string& container, const std::string& path,
                               bool follow_link,
                               const std::function<absl::Status(const PathInfo&)>& on_info,
                               layer::ByteSink* sink) {
  if (path.empty() || path[0] != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("path \"", path, "\" must be absolute inside the container"));
  }
  ASSIGN_OR_RETURN(std::shared_ptr<Entry> entry, Find(container));
  absl::ReaderMutexLock op(&entry->op_mu);
  ContainerRecord record;
  ASSIGN_OR_RETURN(UniqueFd root_fd, OpenRootfs(*entry, &record));
  ASSIGN_OR_RETURN(std::string relative, layer::CleanPath(path));
  // docker's "PATH/." copies what the directory holds, not the directory.
  const bool contents_only = absl::EndsWith(path, "/.") && !relative.empty();
  auto not_found = [&](const absl::Status& status) {
    if (absl::IsNotFound(status)) {
      return absl::NotFoundError(
          absl::StrCat("container \"", record.name, "\": path \"", path, "\" not found"));
    }
    return status;
  };
  if (relative.empty()) {
    RETURN_IF_ERROR(on_info(PathInfo{"/", 0, S_IFDIR | 0755, absl::Now(), ""}));
    return layer::WriteTreeAsTar(root_fd.get(), sink).status();
  }
  // The archive is named as asked (docker: `cp -L c:/link` copies the target as "link").
  const std::string requested_name = Basename(relative);
  if (follow_link || contents_only) {
    absl::StatusOr<ResolvedPath> resolved =
        ResolveInContainer(root_fd.get(), relative, /*follow_final=*/true);
    if (!resolved.ok()) return not_found(resolved.status());
    relative = resolved->path;
  }
  const std::string parent = Dirname(relative) == "." ? "" : Dirname(relative);
  const std::string base = Basename(relative);
  absl::StatusOr<UniqueFd> parent_fd =
      layer::OpenInRoot(root_fd.get(), parent, O_RDONLY | O_DIRECTORY);
  if (!parent_fd.ok()) return not_found(parent_fd.status());
  struct stat st;
  if (::fstatat(parent_fd->get(), base.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return not_found(ErrnoStatus(errno, "stat"));
  }
  PathInfo info{requested_name, st.st_size, st.st_mode, absl::TimeFromTimespec(st.st_mtim), ""};
  if (S_ISLNK(st.st_mode)) {
    char target[4096];
    ssize_t length = ::readlinkat(parent_fd->get(), base.c_str(), target, sizeof(target));
    if (length > 0) info.link_target.assign(target, static_cast<size_t>(length));
  }
  if (!contents_only) RETURN_IF_ERROR(on_info(info));
  if (contents_only) {
    if (!S_ISDIR(st.st_mode)) {
      return absl::InvalidArgumentError(absl::StrCat("path \"", path, "\": not a directory"));
    }
    info.name = ".";
    RETURN_IF_ERROR(on_info(info));
    absl::StatusOr<UniqueFd> dir =
        layer::OpenInRoot(root_fd.get(), relative, O_RDONLY | O_DIRECTORY);
    if (!dir.ok()) return not_found(dir.status());
    return layer::WriteTreeAsTar(dir->get(), sink).status();
  }
  return layer::WriteEntryAsTar(parent_fd->get(), base, requested_name, sink).status();
}

absl::Status Runtime::CopyTo(const std::string& container, const CopyToSpec& spec,
                             layer::ByteSource* tar) {
  if (spec.path.empty() || spec.path[0] != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("path \"", spec.path, "\" must be absolute inside the container"));
  }
  if (spec.source_name.find('/') != std::string::npos || spec.source_name == "..") {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid source name \"", spec.source_name, "\""));
  }
  ASSIGN_OR_RETURN(std::shared_ptr<Entry> entry, Find(container));
  // Shared, as export: a commit (exclusive) never sees half a copy.
  absl::ReaderMutexLock op(&entry->op_mu);
  ContainerRecord record;
  ASSIGN_OR_RETURN(UniqueFd root_fd, OpenRootfs(*entry, &record));
  const bool asserts_dir = absl::EndsWith(spec.path, "/") || absl::EndsWith(spec.path, "/.");
  // docker follows a symlink at the destination: the copy goes where it points.
  absl::StatusOr<ResolvedPath> dst =
      ResolveInContainer(root_fd.get(), spec.path, /*follow_final=*/true);
  auto no_such_file = [&](const std::string& path) {
    return absl::NotFoundError(
        absl::StrCat("Could not find the file ", path, " in container ", record.name));
  };
  if (!dst.ok()) {
    if (absl::IsNotFound(dst.status())) return no_such_file(Dirname(spec.path));
    return dst.status();
  }
  layer::UnpackOptions options;
  options.plain_files = true;
  if (!spec.keep_owner) options.owner = std::make_pair(0u, 0u);
  // Where the tar goes (a directory of the container) and what its top entry becomes.
  std::string extract_dir;
  if (spec.source_name.empty()) {
    if (!dst->exists || !dst->is_dir) {
      return absl::FailedPreconditionError(absl::StrCat(
          "destination \"", record.name, ":", spec.path, "\" must be a directory"));
    }
    extract_dir = dst->path;
  } else if (dst->exists && dst->is_dir) {
    extract_dir = dst->path;
  } else if (dst->exists && spec.source_is_dir) {
    return absl::FailedPreconditionError("cannot copy directory");
  } else if (!dst->exists && !spec.source_is_dir && asserts_dir) {
    return absl::FailedPreconditionError("no such directory");
  } else {
    // A new file or directory (or a file replacing a file) named as the destination.
    extract_dir = Dirname(dst->path) == "." ? "" : Dirname(dst->path);
    options.rebase_from = spec.source_name;
    options.rebase_to = Basename(dst->path);
    if (spec.source_name == ".") {
      // A directory's contents into a new directory: make it, then unpack into it.
      absl::StatusOr<UniqueFd> parent =
          layer::OpenInRoot(root_fd.get(), extract_dir, O_PATH | O_DIRECTORY);
      if (!parent.ok()) return no_such_file("/" + extract_dir);
      if (::mkdirat(parent->get(), options.rebase_to.c_str(), 0755) != 0 && errno != EEXIST) {
        return ErrnoStatus(errno, "mkdir " + spec.path);
      }
      extract_dir = dst->path;
      options.rebase_from.clear();
      options.rebase_to.clear();
    }
  }
  absl::StatusOr<UniqueFd> dir = layer::OpenInRoot(root_fd.get(), extract_dir, O_RDONLY);
  if (!dir.ok()) return no_such_file("/" + extract_dir);
  struct stat st;
  if (::fstat(dir->get(), &st) != 0) return ErrnoStatus(errno, "stat /" + extract_dir);
  if (!S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError("extraction point is not a directory");
  }
  absl::StatusOr<layer::UnpackStats> unpacked = layer::UnpackLayer(tar, dir->get(), options);
  if (!unpacked.ok()) {
    return Annotate(unpacked.status(),
                    absl::StrCat("copy into container \"", record.name, "\":", spec.path));
  }
  STRATA_LOG(INFO) << "copied " << unpacked->entries << " entries into container "
                   << record.name << ":" << spec.path;
  return absl::OkStatus();
}

namespace {

// Sums the sizes of everything under the directory fd (consumed), each inode once.
absl::Status AddTreeSize(int dir_fd, const std::string& path,
                         std::set<std::pair<dev_t, ino_t>>* linked, int64_t* total) {
  DIR* dir = ::fdopendir(dir_fd);
  if (dir == nullptr) {
    const int error = errno;
    ::close(dir_fd);
    return ErrnoStatus(error, "open " + path);
  }
  absl::Status status;
  errno = 0;
  while (struct dirent* entry = ::readdir(dir)) {
    const std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    struct stat st;
    if (::fstatat(::dirfd(dir), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue;  // removed by the container meanwhile
      status = ErrnoStatus(errno, "stat " + path + "/" + name);
      break;
    }
    if (S_ISDIR(st.st_mode)) {
      const int child = ::openat(::dirfd(dir), name.c_str(),
                                 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (child < 0) {
        if (errno == ENOENT) continue;
        status = ErrnoStatus(errno, "open " + path + "/" + name);
        break;
      }
      status = AddTreeSize(child, path + "/" + name, linked, total);
      if (!status.ok()) break;
      continue;
    }
    if (st.st_nlink > 1 && !linked->insert({st.st_dev, st.st_ino}).second) continue;
    *total += st.st_size;
  }
  ::closedir(dir);
  return status;
}

}  // namespace

absl::StatusOr<int64_t> Runtime::WritableLayerSize(const std::string& container) {
  ASSIGN_OR_RETURN(std::shared_ptr<Entry> entry, Find(container));
  const std::string upper = layout_.Container(RecordOf(*entry).id).upper;
  const int fd = ::open(upper.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return 0;  // nothing written yet
    return ErrnoStatus(errno, "open " + upper);
  }
  std::set<std::pair<dev_t, ino_t>> linked;
  int64_t total = 0;
  RETURN_IF_ERROR(AddTreeSize(fd, upper, &linked, &total));
  return total;
}

}  // namespace strata::runtime
