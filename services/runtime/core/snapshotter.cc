#include "services/runtime/core/snapshotter.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <random>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "lib/base/errors.h"
#include "lib/base/fs.h"
#include "lib/base/log.h"
#include "lib/layer/unpacker.h"

namespace strata::runtime {
namespace {

// 12 characters of [a-z0-9]: 62 bits, short enough that 250 lower directories fit in one
// page of mount options ("l/" is the working directory of the mount, see mounter.h).
std::string RandomLinkName() {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  thread_local std::mt19937_64 generator(std::random_device{}());
  std::string name;
  for (int i = 0; i < 12; ++i) name.push_back(kAlphabet[generator() % 36]);
  return name;
}

}  // namespace

Snapshotter::Snapshotter(std::string root, BlobStore* blobs)
    : root_(std::move(root)),
      snapshots_dir_(root_ + "/snapshots"),
      link_dir_(root_ + "/l"),
      blobs_(blobs) {}

absl::Status Snapshotter::Init() {
  RETURN_IF_ERROR(MakeDirs(snapshots_dir_, 0700));
  RETURN_IF_ERROR(MakeDirs(link_dir_, 0700));
  DIR* dir = ::opendir(snapshots_dir_.c_str());
  if (dir == nullptr) return ErrnoStatus(errno, "opendir " + snapshots_dir_);
  std::vector<std::string> leftovers;
  while (struct dirent* entry = ::readdir(dir)) {
    if (absl::StartsWith(entry->d_name, ".tmp-")) leftovers.push_back(entry->d_name);
  }
  ::closedir(dir);
  for (const std::string& name : leftovers) {
    STRATA_LOG(WARNING) << "removing interrupted unpack " << name;
    RETURN_IF_ERROR(RemoveAll(absl::StrCat(snapshots_dir_, "/", name)));
  }
  return absl::OkStatus();
}

absl::Mutex* Snapshotter::LockFor(const Digest& chain_id) {
  absl::MutexLock lock(&mutexes_lock_);
  std::unique_ptr<absl::Mutex>& mutex = mutexes_[chain_id.str()];
  if (mutex == nullptr) mutex = std::make_unique<absl::Mutex>();
  return mutex.get();
}

absl::StatusOr<std::string> Snapshotter::AddLink(const std::string& target) {
  for (int attempt = 0; attempt < 10; ++attempt) {
    const std::string name = RandomLinkName();
    if (::symlink(target.c_str(), absl::StrCat(link_dir_, "/", name).c_str()) == 0) {
      return name;
    }
    if (errno != EEXIST) return ErrnoStatus(errno, "symlink " + name);
  }
  return absl::InternalError("no free link name");
}

void Snapshotter::RemoveLink(const std::string& link) {
  if (!link.empty()) ::unlink(absl::StrCat(link_dir_, "/", link).c_str());
}

absl::StatusOr<Snapshot> Snapshotter::Existing(const Digest& chain_id) {
  const std::string dir = absl::StrCat(snapshots_dir_, "/", chain_id.hex());
  absl::StatusOr<std::string> link = ReadFile(dir + "/link");
  if (!link.ok()) return link.status();
  Snapshot snapshot{chain_id, dir + "/fs", std::string(absl::StripAsciiWhitespace(*link))};
  // The link may be missing after a crash between the rename and its creation.
  const std::string link_path = absl::StrCat(link_dir_, "/", snapshot.link);
  if (!PathExists(link_path) && ::symlink(snapshot.dir.c_str(), link_path.c_str()) != 0) {
    return ErrnoStatus(errno, "symlink " + link_path);
  }
  return snapshot;
}

absl::StatusOr<std::vector<Snapshot>> Snapshotter::Prepare(const std::vector<LayerRef>& layers) {
  std::vector<Snapshot> snapshots;
  snapshots.reserve(layers.size());
  for (const LayerRef& layer : layers) {
    ASSIGN_OR_RETURN(Snapshot snapshot, PrepareOne(layer, snapshots));
    snapshots.push_back(std::move(snapshot));
  }
  return snapshots;
}

absl::StatusOr<Snapshot> Snapshotter::PrepareOne(const LayerRef& layer,
                                                 const std::vector<Snapshot>& below) {
  absl::MutexLock lock(LockFor(layer.chain_id));
  absl::StatusOr<Snapshot> existing = Existing(layer.chain_id);
  if (existing.ok() || !absl::IsNotFound(existing.status())) return existing;
  const std::string final_dir = absl::StrCat(snapshots_dir_, "/", layer.chain_id.hex());
  RETURN_IF_ERROR(Unpack(layer, below, final_dir));
  return Existing(layer.chain_id);
}

absl::Status Snapshotter::Unpack(const LayerRef& layer, const std::vector<Snapshot>& below,
                                 const std::string& final_dir) {
  // The layers below, top first: whiteouts are written only where they hide something.
  std::vector<UniqueFd> lower_dirs;
  layer::UnpackOptions options;
  options.lower_layers.emplace();
  for (auto it = below.rbegin(); it != below.rend(); ++it) {
    UniqueFd dir(::open(it->dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir.valid()) return ErrnoStatus(errno, "open " + it->dir);
    options.lower_layers->push_back(dir.get());
    lower_dirs.push_back(std::move(dir));
  }

  std::string temp =
      absl::StrCat(snapshots_dir_, "/.tmp-", layer.chain_id.hex().substr(0, 16), "-XXXXXX");
  if (::mkdtemp(temp.data()) == nullptr) return ErrnoStatus(errno, "mkdtemp " + temp);
  auto cleanup = [&temp](absl::Status status) {
    (void)RemoveAll(temp);
    return status;
  };
  const std::string fs_dir = temp + "/fs";
  if (::mkdir(fs_dir.c_str(), 0755) != 0) return cleanup(ErrnoStatus(errno, "mkdir " + fs_dir));
  UniqueFd fs_fd(::open(fs_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fs_fd.valid()) return cleanup(ErrnoStatus(errno, "open " + fs_dir));

  absl::StatusOr<std::unique_ptr<layer::ByteSource>> blob = blobs_->Open(layer.digest);
  if (!blob.ok()) {
    return cleanup(Annotate(blob.status(), absl::StrCat("layer ", layer.digest.str())));
  }
  layer::HashingSource hashed(blob->get());
  absl::StatusOr<layer::UnpackStats> stats = layer::UnpackLayer(&hashed, fs_fd.get(), options);
  if (!stats.ok()) {
    absl::Status status = stats.status();
    if (absl::IsInvalidArgument(status)) status = absl::DataLossError(status.message());
    return cleanup(Annotate(status, absl::StrCat("unpacking layer ", layer.digest.str())));
  }
  const Digest digest = hashed.Finish();
  if (digest != layer.digest) {
    return cleanup(absl::DataLossError(
        absl::StrCat("layer blob ", layer.digest.str(), ": its bytes hash to ", digest.str())));
  }
  if (stats->diff_id != layer.diff_id) {
    return cleanup(absl::DataLossError(
        absl::StrCat("layer ", layer.digest.str(), ": expected diff id ", layer.diff_id.str(),
                     ", the content hashes to ", stats->diff_id.str())));
  }
  // Durable before it is visible: a crash must not leave a complete-looking snapshot with
  // missing data.
  if (::syncfs(fs_fd.get()) != 0) return cleanup(ErrnoStatus(errno, "syncfs " + fs_dir));
  absl::StatusOr<std::string> added = AddLink(final_dir + "/fs");
  if (!added.ok()) return cleanup(added.status());
  const std::string link = *added;
  absl::Status written = WriteFileAtomically(temp + "/link", link + "\n");
  if (written.ok() && ::rename(temp.c_str(), final_dir.c_str()) != 0) {
    written = ErrnoStatus(errno, "rename to " + final_dir);
  }
  if (!written.ok()) {
    RemoveLink(link);
    return cleanup(written);
  }
  (void)FsyncDir(snapshots_dir_);
  return absl::OkStatus();
}

}  // namespace strata::runtime
