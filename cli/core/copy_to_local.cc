// Gateway: `docker cp CONTAINER:PATH DEST` onto this machine's file system, with docker's
// placement rules. The tar is unpacked with lib/layer's safe unpacker (nothing it holds can
// write outside the destination); a new destination is unpacked beside it and renamed into
// place, so a failed copy leaves nothing half-written under its name.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "cli/core/copy_stream.h"
#include "cli/core/gateway.h"
#include "lib/base/errors.h"
#include "lib/base/fs.h"
#include "lib/layer/unpacker.h"

namespace strata::gateway {
namespace {

// Unpacks the stream into the directory at `directory`.
absl::Status UnpackInto(internal::CopyStream& stream, const std::string& directory) {
  UniqueFd dir(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir.valid()) return stream.Finish(ErrnoStatus(errno, "open " + directory));
  absl::StatusOr<layer::UnpackStats> unpacked = layer::UnpackLayer(&stream, dir.get());
  return stream.Finish(unpacked.status());
}

// docker's CopyInfoDestinationPath: a symlink at the destination is followed (at most 10
// links), never replaced; a dangling one names where the copy is created, whose parent
// must be a directory.
absl::StatusOr<std::string> ResolveLocalDestination(const std::string& given) {
  std::string path = given;
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  const bool asserts_dir = path.size() != given.size();
  struct stat st;
  int links = 0;
  while (::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
    if (++links > 10) return absl::InvalidArgumentError("too many symlinks in " + given);
    char target[4096];
    const ssize_t length = ::readlink(path.c_str(), target, sizeof(target) - 1);
    if (length < 0) return ErrnoStatus(errno, "readlink " + path);
    std::string link(target, static_cast<size_t>(length));
    path = link[0] == '/' ? link : absl::StrCat(Dirname(path), "/", link);
  }
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno != ENOENT) return ErrnoStatus(errno, "lstat " + path);
    const std::string parent = Dirname(path);
    struct stat parent_st;
    if (::stat(parent.c_str(), &parent_st) != 0) return ErrnoStatus(errno, "stat " + parent);
    if (!S_ISDIR(parent_st.st_mode)) return absl::FailedPreconditionError("not a directory");
  }
  return asserts_dir && links == 0 ? path + "/" : path;
}

}  // namespace

absl::Status Gateway::CopyToLocal(const rt::CopyFromRequest& request,
                                  const std::string& given_destination) {
  ASSIGN_OR_RETURN(std::unique_ptr<internal::CopyStream> stream,
                   internal::CopyStream::Open(services_, request));
  absl::StatusOr<std::string> resolved = ResolveLocalDestination(given_destination);
  if (!resolved.ok()) return stream->Finish(resolved.status());
  const bool asserts_dir = !resolved->empty() && resolved->back() == '/';
  std::string destination = *resolved;
  if (asserts_dir) destination.pop_back();
  const rt::PathStat& stat = stream->stat();
  const std::string& name = stat.name();
  const bool contents = name == "." || name == "/";
  const bool source_is_dir = contents || S_ISDIR(stat.mode());
  struct stat target;
  const bool exists = ::stat(destination.c_str(), &target) == 0;
  const bool into_directory = exists && S_ISDIR(target.st_mode);
  // docker's PrepareArchiveCopy errors, in its words.
  if (exists && !into_directory && source_is_dir) {
    return stream->Finish(absl::FailedPreconditionError("cannot copy directory"));
  }
  if (!exists && asserts_dir && !source_is_dir) {
    return stream->Finish(absl::FailedPreconditionError("no such directory"));
  }
  if (into_directory && !contents) {
    struct stat existing;
    const std::string inside = absl::StrCat(destination, "/", name);
    if (::lstat(inside.c_str(), &existing) == 0 &&
        S_ISDIR(existing.st_mode) != S_ISDIR(stat.mode())) {
      return stream->Finish(absl::FailedPreconditionError(absl::StrCat(
          "cannot overwrite ", S_ISDIR(existing.st_mode) ? "directory" : "non-directory", " \"",
          inside, "\" with ", S_ISDIR(stat.mode()) ? "a directory" : "a non-directory")));
    }
  }
  if (contents && !exists) {
    absl::Status made = MakeDirs(destination);
    if (!made.ok()) return stream->Finish(made);
  }
  // Straight into the directory: the archive's paths start with SRC's name (or nothing).
  if (contents || into_directory) return UnpackInto(*stream, destination);

  // A new (or replaced regular) file or directory: unpacked beside it, then renamed.
  const std::string parent = Dirname(destination);
  std::string staging = absl::StrCat(parent, "/.strata-cp-XXXXXX");
  if (::mkdtemp(staging.data()) == nullptr) {
    return stream->Finish(ErrnoStatus(errno, "create a directory in " + parent));
  }
  absl::Status result = UnpackInto(*stream, staging);
  if (result.ok()) {
    const std::string from = absl::StrCat(staging, "/", name);
    if (::rename(from.c_str(), destination.c_str()) != 0) {
      result = ErrnoStatus(errno, "move into " + destination);
    }
  }
  (void)RemoveAll(staging);
  return result;
}

}  // namespace strata::gateway
