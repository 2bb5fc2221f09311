#include "services/layerstore/core/fs_lease_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>

#include <cerrno>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "lib/base/errors.h"
#include "lib/base/fs.h"
#include "lib/base/random.h"
#include "nlohmann/json.hpp"

namespace strata::layerstore {
namespace {

constexpr char kHeader[] = "lease";
constexpr char kBlobPrefix[] = "blob-";
constexpr char kUploadPrefix[] = "upload-";

absl::Status NoLease(const std::string& id) {
  return absl::NotFoundError(absl::StrCat("lease \"", id, "\": not found or expired"));
}

absl::Status CheckTtl(absl::Duration ttl) {
  if (ttl <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("lease expiry ", absl::FormatDuration(ttl), ": must be positive"));
  }
  return absl::OkStatus();
}

// Names in a directory (without . and ..). A missing directory has none.
absl::StatusOr<std::vector<std::string>> ListDir(const std::string& path) {
  std::vector<std::string> names;
  DIR* dir = opendir(path.c_str());
  if (dir == nullptr) {
    if (errno == ENOENT) return names;
    return ErrnoStatus(errno, absl::StrCat("open directory ", path));
  }
  while (struct dirent* entry = readdir(dir)) {
    const std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  closedir(dir);
  return names;
}

// WriteFileAtomically with a temporary of its own, so that two threads of one process writing
// the same entry at once do not trip over one shared temporary.
absl::Status WriteEntry(const std::string& path, const std::string& contents) {
  const std::string temp = absl::StrCat(path, ".tmp-", RandomHex(12));
  UniqueFd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd.valid()) return ErrnoStatus(errno, absl::StrCat("create ", temp));
  absl::Status status = WriteAll(fd.get(), contents);
  if (status.ok() && ::fsync(fd.get()) != 0) status = ErrnoStatus(errno, "fsync " + temp);
  fd.Reset();
  if (status.ok() && ::rename(temp.c_str(), path.c_str()) != 0) {
    status = ErrnoStatus(errno, absl::StrCat("rename ", temp, " to ", path));
  }
  if (!status.ok()) {
    ::unlink(temp.c_str());
    return status;
  }
  return FsyncDir(Dirname(path));
}

}  // namespace

absl::Status ValidateLeaseId(const std::string& id) {
  bool ok = id.size() == 32;
  for (char c : id) ok = ok && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
  if (!ok) {
    return absl::InvalidArgumentError(
        absl::StrCat("lease \"", id, "\": a lease id is 32 lowercase hex digits"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<FsLeaseStore>> FsLeaseStore::Open(const std::string& root) {
  if (root.empty()) return absl::InvalidArgumentError("lease store: empty root");
  const std::string dir = absl::StrCat(root, "/leases");
  RETURN_IF_ERROR(MakeDirs(dir, 0700));
  return std::unique_ptr<FsLeaseStore>(new FsLeaseStore(dir));
}

absl::Status FsLeaseStore::WriteHeader(const Lease& lease) {
  nlohmann::json json = {{"created", absl::ToUnixNanos(lease.created)},
                         {"expires", absl::ToUnixNanos(lease.expires)}};
  return WriteEntry(absl::StrCat(dir_, "/", lease.id, "/", kHeader), json.dump());
}

absl::StatusOr<Lease> FsLeaseStore::ReadHeader(const std::string& id) {
  RETURN_IF_ERROR(ValidateLeaseId(id));
  absl::StatusOr<std::string> text = ReadFile(absl::StrCat(dir_, "/", id, "/", kHeader));
  if (absl::IsNotFound(text.status())) return NoLease(id);
  RETURN_IF_ERROR(text.status());
  nlohmann::json json = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object() || !json["created"].is_number_integer() ||
      !json["expires"].is_number_integer()) {
    return absl::DataLossError(absl::StrCat("lease \"", id, "\": unreadable lease file"));
  }
  Lease lease;
  lease.id = id;
  lease.created = absl::FromUnixNanos(json["created"].get<int64_t>());
  lease.expires = absl::FromUnixNanos(json["expires"].get<int64_t>());
  return lease;
}

absl::StatusOr<Lease> FsLeaseStore::ReadLive(const std::string& id) {
  ASSIGN_OR_RETURN(Lease lease, ReadHeader(id));
  if (lease.expires <= absl::Now()) return NoLease(id);
  return lease;
}

absl::StatusOr<Lease> FsLeaseStore::Create(absl::Duration ttl) {
  RETURN_IF_ERROR(CheckTtl(ttl));
  Lease lease;
  lease.id = RandomHex(32);
  lease.created = absl::Now();
  lease.expires = lease.created + ttl;
  const std::string dir = absl::StrCat(dir_, "/", lease.id);
  if (mkdir(dir.c_str(), 0700) != 0) return ErrnoStatus(errno, absl::StrCat("create ", dir));
  RETURN_IF_ERROR(WriteHeader(lease));
  return lease;
}

absl::StatusOr<Lease> FsLeaseStore::Renew(const std::string& id, absl::Duration ttl) {
  RETURN_IF_ERROR(CheckTtl(ttl));
  ASSIGN_OR_RETURN(Lease lease, ReadLive(id));
  lease.expires = absl::Now() + ttl;
  absl::Status written = WriteHeader(lease);
  // A Delete that removed the directory meanwhile wins: the lease stays gone.
  if (absl::IsNotFound(written)) return NoLease(id);
  RETURN_IF_ERROR(written);
  return lease;
}

absl::Status FsLeaseStore::Delete(const std::string& id) {
  RETURN_IF_ERROR(ValidateLeaseId(id));
  const std::string dir = absl::StrCat(dir_, "/", id);
  // The header goes first: from that moment the lease protects nothing, whatever is left.
  const std::string header = absl::StrCat(dir, "/", kHeader);
  if (unlink(header.c_str()) != 0) {
    if (errno == ENOENT) return NoLease(id);
    return ErrnoStatus(errno, absl::StrCat("remove ", header));
  }
  return RemoveAll(dir);
}

absl::Status FsLeaseStore::AddEntry(const std::string& id, const std::string& name,
                                    const std::string& contents) {
  RETURN_IF_ERROR(ReadLive(id).status());
  absl::Status written = WriteEntry(absl::StrCat(dir_, "/", id, "/", name), contents);
  if (absl::IsNotFound(written)) return NoLease(id);
  RETURN_IF_ERROR(written);
  // Deleted or expired while the entry was written: the caller must not rely on it.
  return ReadLive(id).status();
}

absl::Status FsLeaseStore::AddBlob(const std::string& id, const Digest& digest) {
  return AddEntry(id, absl::StrCat(kBlobPrefix, digest.hex()), "");
}

absl::Status FsLeaseStore::AddUpload(const std::string& id, const std::string& ref) {
  return AddEntry(id, absl::StrCat(kUploadPrefix, Digest::Of(ref).hex()), ref);
}

absl::StatusOr<Lease> FsLeaseStore::Get(const std::string& id) {
  ASSIGN_OR_RETURN(Lease lease, ReadLive(id));
  const std::string dir = absl::StrCat(dir_, "/", id);
  ASSIGN_OR_RETURN(std::vector<std::string> names, ListDir(dir));
  for (const std::string& name : names) {
    if (absl::StartsWith(name, kBlobPrefix)) {
      absl::StatusOr<Digest> digest = Digest::FromHex(name.substr(sizeof(kBlobPrefix) - 1));
      if (digest.ok()) lease.blobs.push_back(*digest);
    } else if (absl::StartsWith(name, kUploadPrefix)) {
      absl::StatusOr<std::string> ref = ReadFile(absl::StrCat(dir, "/", name));
      if (ref.ok()) lease.uploads.push_back(*ref);
    }
  }
  return lease;
}

absl::StatusOr<std::vector<Lease>> FsLeaseStore::ListLive(absl::Time now) {
  ASSIGN_OR_RETURN(std::vector<std::string> ids, ListDir(dir_));
  std::vector<Lease> leases;
  for (const std::string& id : ids) {
    if (!ValidateLeaseId(id).ok()) continue;
    absl::StatusOr<Lease> header = ReadHeader(id);
    if (absl::IsNotFound(header.status())) continue;  // being deleted
    RETURN_IF_ERROR(header.status());
    if (header->expires <= now) continue;
    absl::StatusOr<Lease> lease = Get(id);
    if (absl::IsNotFound(lease.status())) continue;
    RETURN_IF_ERROR(lease.status());
    leases.push_back(std::move(*lease));
  }
  return leases;
}

absl::StatusOr<int> FsLeaseStore::RemoveExpired(absl::Time before) {
  ASSIGN_OR_RETURN(std::vector<std::string> ids, ListDir(dir_));
  int removed = 0;
  for (const std::string& id : ids) {
    if (!ValidateLeaseId(id).ok()) continue;  // a temporary of WriteFileAtomically, say
    absl::StatusOr<Lease> header = ReadHeader(id);
    if (header.ok() && header->expires >= before) continue;
    if (!header.ok() && !absl::IsNotFound(header.status())) continue;  // unreadable: keep
    if (!header.ok()) {
      // No header: a Delete under way, or Create between mkdir and its header. Only old
      // debris goes.
      struct stat st;
      const std::string dir = absl::StrCat(dir_, "/", id);
      if (stat(dir.c_str(), &st) != 0 ||
          absl::TimeFromTimespec(st.st_mtim) > absl::Now() - absl::Minutes(10)) {
        continue;
      }
    }
    RETURN_IF_ERROR(RemoveAll(absl::StrCat(dir_, "/", id)));
    ++removed;
  }
  return removed;
}

}  // namespace strata::layerstore
