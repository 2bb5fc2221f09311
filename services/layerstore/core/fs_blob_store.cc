#include "services/layerstore/core/fs_blob_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "lib/base/errors.h"
#include "lib/base/fs.h"
#include "lib/base/log.h"
#include "nlohmann/json.hpp"
#include "services/layerstore/core/blob_verify.h"
#include "services/layerstore/core/chunk_worker.h"

namespace strata::layerstore {

// An upload directory whose data file this process holds open and flock'ed.
struct FsBlobStore::LockedUpload {
  std::string dir;
  UniqueFd data;  // <dir>/data, O_RDWR, flock LOCK_EX
  std::string ref;
  UploadExpectations expected;
  absl::Time started;
  int64_t size = 0;  // of the data file when locked
};

namespace {

constexpr char kDataFile[] = "data";
constexpr char kMetaFile[] = "meta";
constexpr char kTempPrefix[] = ".tmp-";
// Opening an upload races with removals and commits by other writers; each lost race is
// retried, and this many in a row mean something keeps changing it.
constexpr int kOpenAttempts = 20;

// A ref as error messages show it: quoted, escaped, and short.
std::string QuoteRef(absl::string_view ref) {
  std::string quoted = absl::StrCat("\"", absl::CHexEscape(ref.substr(0, 100)));
  if (ref.size() > 100) quoted += "...";
  return quoted + "\"";
}

std::string Upload(absl::string_view ref) { return absl::StrCat("upload ", QuoteRef(ref)); }

absl::Status ValidateRef(const std::string& ref) {
  if (ref.empty()) return absl::InvalidArgumentError("upload ref is empty");
  if (ref.size() > kMaxRefLength) {
    return absl::InvalidArgumentError(absl::StrCat(Upload(ref), ": ref is ", ref.size(),
                                                   " bytes long, at most ", kMaxRefLength,
                                                   " are allowed"));
  }
  return absl::OkStatus();
}

absl::Status BlobNotFound(const Digest& digest) {
  return absl::NotFoundError(absl::StrCat("blob \"", digest.str(), "\": not found"));
}

absl::Status UploadNotFound(const std::string& ref) {
  return absl::NotFoundError(absl::StrCat(Upload(ref), ": not found"));
}

absl::Time ModificationTime(const struct stat& st) { return absl::TimeFromTimespec(st.st_mtim); }

bool IsBlobName(absl::string_view name, size_t length) {
  return name.size() == length && IsLowerHex(name);
}

// Names in a directory, without "." and ".."; a missing directory has none.
absl::StatusOr<std::vector<std::string>> ListDir(const std::string& path) {
  std::vector<std::string> names;
  DIR* dir = ::opendir(path.c_str());
  if (dir == nullptr) {
    if (errno == ENOENT) return names;
    return ErrnoStatus(errno, absl::StrCat("opendir ", path));
  }
  while (struct dirent* entry = ::readdir(dir)) {
    absl::string_view name = entry->d_name;
    if (name != "." && name != "..") names.emplace_back(name);
  }
  ::closedir(dir);
  return names;
}

absl::Status PwriteAll(int fd, const char* data, size_t size, int64_t offset) {
  while (size > 0) {
    ssize_t n = ::pwrite(fd, data, size, offset);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "write");
    }
    data += n;
    size -= static_cast<size_t>(n);
    offset += n;
  }
  return absl::OkStatus();
}

std::string EncodeMeta(const std::string& ref, const UploadExpectations& expected,
                       absl::Time started) {
  // Refs are arbitrary bytes and JSON strings are UTF-8: store the ref in hex.
  nlohmann::json meta = {{"ref_hex", absl::BytesToHexString(ref)},
                         {"started_unix_nanos", absl::ToUnixNanos(started)}};
  if (expected.digest) meta["expected_digest"] = expected.digest->str();
  if (expected.size) meta["expected_size"] = *expected.size;
  return meta.dump();
}

// Errors: DATA_LOSS (not what EncodeMeta writes).
absl::Status DecodeMeta(const std::string& text, std::string* ref, UploadExpectations* expected,
                        absl::Time* started) {
  const nlohmann::json meta = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  const auto damaged = [](absl::string_view what) {
    return absl::DataLossError(absl::StrCat("upload metadata is damaged: ", what));
  };
  if (!meta.is_object()) return damaged("not a JSON object");
  auto ref_hex = meta.find("ref_hex");
  if (ref_hex == meta.end() || !ref_hex->is_string()) return damaged("no ref");
  const std::string hex = ref_hex->get<std::string>();
  if (hex.size() % 2 != 0 || !std::all_of(hex.begin(), hex.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
      })) {
    return damaged("ref is not hex");
  }
  *ref = absl::HexStringToBytes(hex);
  auto nanos = meta.find("started_unix_nanos");
  if (nanos == meta.end() || !nanos->is_number_integer()) return damaged("no start time");
  *started = absl::FromUnixNanos(nanos->get<int64_t>());
  *expected = UploadExpectations();
  if (auto digest = meta.find("expected_digest"); digest != meta.end()) {
    if (!digest->is_string()) return damaged("expected digest is not a string");
    absl::StatusOr<Digest> parsed = Digest::Parse(digest->get<std::string>());
    if (!parsed.ok()) return damaged(parsed.status().message());
    expected->digest = *parsed;
  }
  if (auto size = meta.find("expected_size"); size != meta.end()) {
    if (!size->is_number_integer()) return damaged("expected size is not an integer");
    expected->size = size->get<int64_t>();
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadFileAt(int dirfd, const char* name, const std::string& what) {
  UniqueFd fd(::openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid()) return ErrnoStatus(errno, absl::StrCat("open ", what));
  std::string contents;
  char buffer[4096];
  for (;;) {
    ssize_t n = ::read(fd.get(), buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, absl::StrCat("read ", what));
    }
    if (n == 0) return contents;
    contents.append(buffer, static_cast<size_t>(n));
  }
}

std::string RandomHex() {
  unsigned char bytes[8];
  size_t got = 0;
  while (got < sizeof(bytes)) {
    ssize_t n = ::getrandom(bytes + got, sizeof(bytes) - got, 0);
    if (n > 0) got += static_cast<size_t>(n);
  }
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(bytes), sizeof(bytes)));
}

// rename(2) that fails with EEXIST instead of replacing `to`. File systems without
// RENAME_NOREPLACE get link + unlink for files, which has the same effect.
int RenameNoReplace(const std::string& from, const std::string& to, bool is_directory) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return 0;
  if (errno != EINVAL && errno != ENOSYS) return -1;
  if (is_directory) {
    // rename(2) refuses a non-empty target, which is what matters for upload directories.
    return ::rename(from.c_str(), to.c_str());
  }
  if (::link(from.c_str(), to.c_str()) != 0) return -1;
  ::unlink(from.c_str());
  return 0;
}

}  // namespace

// Reads back the first `length` bytes of the file at fd (what a resumed upload received
// before) into sha256. Stops early (CANCELLED) once `cancelled` is set.
absl::Status HashPrefix(int fd, int64_t length, Sha256& sha256,
                        const std::atomic<bool>& cancelled) {
  if (length == 0) return absl::OkStatus();
  std::string buffer(1 << 20, '\0');
  for (int64_t position = 0; position < length;) {
    const size_t want = static_cast<size_t>(std::min<int64_t>(length - position, buffer.size()));
    ssize_t n = ::pread(fd, buffer.data(), want, position);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "read back the received part of the upload");
    }
    if (n == 0) {
      return absl::DataLossError(
          absl::StrCat("upload file ends at ", position, " bytes, expected ", length));
    }
    sha256.Update(buffer.data(), static_cast<size_t>(n));
    position += n;
    if (cancelled.load(std::memory_order_relaxed)) {
      return absl::CancelledError("the upload's writer went away");
    }
  }
  return absl::OkStatus();
}

// The writer of one locked upload. Each chunk goes to two ChunkWorkers, one hashing it and
// one writing it to the file, so hashing, writing and receiving the next chunk overlap; a
// third one syncs what was written every sync interval. Commit is verify + fsync + rename.
class FsIngestWriter final : public IngestWriter {
 public:
  FsIngestWriter(FsBlobStore* store, FsBlobStore::LockedUpload upload)
      : store_(store),
        upload_(std::move(upload)),
        offset_(upload_.size),
        writeback_from_(upload_.size),
        sync_requested_(upload_.size),
        synced_until_(upload_.size),
        hasher_(
            store->options_.max_queued_bytes,
            [this] { return HashPrefix(upload_.data.get(), upload_.size, sha256_, closing_); },
            [this](const ChunkWorker::Chunk& chunk) {
              sha256_.Update(chunk.data->data(), chunk.data->size());
              return absl::OkStatus();
            }),
        syncer_(/*max_queued_bytes=*/1, nullptr,
                [this](const ChunkWorker::Chunk& chunk) { return SyncUpTo(chunk.offset); }),
        disk_writer_(store->options_.max_queued_bytes, nullptr,
                     [this](const ChunkWorker::Chunk& chunk) { return WriteToFile(chunk); }) {
    // Bytes that arrived are worth keeping for a resume, even when the writer goes early.
    disk_writer_.finish_on_destroy();
  }

  // Runs before the members go: a long read-back of a resumed upload need not finish.
  ~FsIngestWriter() override { closing_.store(true); }

  const std::string& ref() const override { return upload_.ref; }
  int64_t offset() const override { return offset_; }
  const UploadExpectations& expected() const override { return upload_.expected; }

  absl::Status Write(int64_t offset, std::string chunk) override {
    if (finished_) {
      return absl::FailedPreconditionError(
          absl::StrCat(Upload(ref()), ": the writer was committed or failed"));
    }
    if (offset != offset_) {
      return absl::InvalidArgumentError(
          absl::StrCat(Upload(ref()), ": chunk at offset ", offset, ", expected offset ", offset_));
    }
    if (chunk.empty()) return absl::OkStatus();
    const int64_t size = static_cast<int64_t>(chunk.size());
    if (upload_.expected.size && offset_ + size > *upload_.expected.size) {
      return absl::InvalidArgumentError(
          absl::StrCat(Upload(ref()), ": chunk at offset ", offset, " of ", size,
                       " bytes runs past the expected size of ", *upload_.expected.size, " bytes"));
    }
    ChunkWorker::Chunk shared{std::make_shared<const std::string>(std::move(chunk)), offset_};
    absl::Status queued = disk_writer_.Add(shared);
    if (queued.ok()) queued = hasher_.Add(std::move(shared));
    if (!queued.ok()) {
      // The file holds a prefix of the upload: a new writer resumes from there.
      finished_ = true;
      return Annotate(queued, Upload(ref()));
    }
    offset_ += size;
    return absl::OkStatus();
  }

  absl::StatusOr<CommitResult> Commit() override {
    if (finished_) {
      return absl::FailedPreconditionError(
          absl::StrCat(Upload(ref()), ": the writer was committed or failed"));
    }
    finished_ = true;
    RETURN_IF_ERROR(Annotate(disk_writer_.Drain(), Upload(ref())));
    // A failed background sync must fail the commit: the commit's own fsync would not report
    // an error the syncer already saw on this descriptor.
    RETURN_IF_ERROR(Annotate(syncer_.Drain(), Upload(ref())));
    RETURN_IF_ERROR(Annotate(hasher_.Drain(), Upload(ref())));
    const Digest actual = sha256_.Finish();
    const UploadExpectations& expected = upload_.expected;
    if (expected.size && offset_ != *expected.size) {
      Discard();
      return absl::InvalidArgumentError(absl::StrCat(Upload(ref()), ": size mismatch: expected ",
                                                     *expected.size, " bytes, got ", offset_,
                                                     "; the upload was discarded"));
    }
    if (expected.digest && actual != *expected.digest) {
      Discard();
      return absl::InvalidArgumentError(absl::StrCat(Upload(ref()), ": digest mismatch: expected ",
                                                     expected.digest->str(), ", actual ",
                                                     actual.str(), "; the upload was discarded"));
    }
    return store_->Publish(upload_, actual, offset_);
  }

 private:
  // Runs on disk_writer_'s thread.
  absl::Status WriteToFile(const ChunkWorker::Chunk& chunk) {
    const int fd = upload_.data.get();
    RETURN_IF_ERROR(PwriteAll(fd, chunk.data->data(), chunk.data->size(), chunk.offset));
    const int64_t end = chunk.offset + static_cast<int64_t>(chunk.data->size());
    const FsBlobStore::Options& options = store_->options_;
    if (options.writeback_interval_bytes > 0 &&
        end - writeback_from_ >= options.writeback_interval_bytes) {
      // Start writeback now, asynchronously: the disk works while more arrives.
      ::sync_file_range(fd, writeback_from_, end - writeback_from_, SYNC_FILE_RANGE_WRITE);
      writeback_from_ = end;
    }
    if (options.sync_interval_bytes > 0 && end - sync_requested_ >= options.sync_interval_bytes) {
      // Have the syncer make this much durable, while this thread writes on.
      sync_requested_ = end;
      return syncer_.Add({std::make_shared<const std::string>(), end});
    }
    return absl::OkStatus();
  }

  // Runs on syncer_'s thread: makes the first `upto` bytes durable now, while more arrive,
  // rather than all of them at commit (flushing takes time in proportion to the data, so the
  // commit's fsync is left with the last interval only), then drops their pages.
  absl::Status SyncUpTo(int64_t upto) {
    const int fd = upload_.data.get();
    if (::fdatasync(fd) != 0) return ErrnoStatus(errno, "sync the upload");
    if (store_->options_.stream_past_page_cache) {
      ::posix_fadvise(fd, synced_until_, upto - synced_until_, POSIX_FADV_DONTNEED);
    }
    synced_until_ = upto;
    return absl::OkStatus();
  }

  void Discard() {
    if (absl::Status removed = store_->RemoveUploadDir(upload_.dir); !removed.ok()) {
      STRATA_LOG(WARNING) << Upload(ref()) << ": discarding failed: " << removed.message();
    }
  }

  FsBlobStore* const store_;
  FsBlobStore::LockedUpload upload_;  // outlives the workers, which use its file
  int64_t offset_;
  int64_t writeback_from_;  // used by disk_writer_'s thread only
  int64_t sync_requested_;  // used by disk_writer_'s thread only
  int64_t synced_until_;    // used by syncer_'s thread only
  bool finished_ = false;
  Sha256 sha256_;  // used by hasher_'s thread until hasher_.Drain()
  std::atomic<bool> closing_{false};
  // Declared last: destroyed (joined) first; disk_writer_ feeds syncer_.
  ChunkWorker hasher_;
  ChunkWorker syncer_;
  ChunkWorker disk_writer_;
};

namespace {

// Streams a range of a blob file with pread; the open descriptor keeps a deleted blob readable.
// With drop_behind, a range that is not in the page cache when the read starts is read from
// disk through a small window of pages, dropped behind the reader; a cached one is read as is.
class FsBlobRangeReader final : public BlobRangeReader {
 public:
  FsBlobRangeReader(UniqueFd fd, BlobInfo info, int64_t offset, int64_t end, bool drop_behind)
      : fd_(std::move(fd)),
        info_(std::move(info)),
        position_(offset),
        end_(end),
        drop_behind_(drop_behind),
        dropped_until_(offset) {}

  const BlobInfo& info() const override { return info_; }
  int64_t position() const override { return position_; }
  int64_t remaining() const override { return end_ - position_; }

  absl::StatusOr<size_t> Read(char* buffer, size_t capacity) override {
    const size_t want = static_cast<size_t>(std::min<int64_t>(end_ - position_, capacity));
    if (want == 0) return 0;
    ssize_t n = -1;
    if (first_read_ && drop_behind_) {
      // Ask the page cache alone: EAGAIN means the range must come from disk.
      struct iovec iov = {buffer, want};
      n = ::preadv2(fd_.get(), &iov, 1, position_, RWF_NOWAIT);
      from_disk_ = n < 0 && errno == EAGAIN;
    }
    first_read_ = false;
    while (n < 0) {
      n = ::pread(fd_.get(), buffer, want, position_);
      if (n < 0 && errno != EINTR) {
        return ErrnoStatus(errno, absl::StrCat("read blob \"", info_.digest.str(), "\""));
      }
    }
    if (n == 0) {
      return absl::DataLossError(absl::StrCat("blob \"", info_.digest.str(), "\": ends at ",
                                              position_, " bytes, expected ", info_.size));
    }
    position_ += n;
    if (from_disk_ && position_ - dropped_until_ >= 2 * kDropWindow) {
      // Keep the latest window (readahead works there), drop what the reader is done with.
      const int64_t upto = position_ - kDropWindow;
      ::posix_fadvise(fd_.get(), dropped_until_, upto - dropped_until_, POSIX_FADV_DONTNEED);
      dropped_until_ = upto;
    }
    return static_cast<size_t>(n);
  }

 private:
  static constexpr int64_t kDropWindow = 16 << 20;

  UniqueFd fd_;
  BlobInfo info_;
  int64_t position_;
  const int64_t end_;
  const bool drop_behind_;
  bool first_read_ = true;
  bool from_disk_ = false;
  int64_t dropped_until_;
};

}  // namespace

FsBlobStore::FsBlobStore(std::string root, const Options& options)
    : root_(std::move(root)),
      blobs_dir_(root_ + "/blobs/sha256"),
      ingest_dir_(root_ + "/ingest"),
      quarantine_dir_(root_ + "/quarantine/sha256"),
      options_(options) {}

absl::StatusOr<std::unique_ptr<FsBlobStore>> FsBlobStore::Open(const std::string& root) {
  return Open(root, Options());
}

absl::StatusOr<std::unique_ptr<FsBlobStore>> FsBlobStore::Open(const std::string& root,
                                                               const Options& options) {
  if (root.empty()) return absl::InvalidArgumentError("blob store root is empty");
  std::unique_ptr<FsBlobStore> store(new FsBlobStore(root, options));
  RETURN_IF_ERROR(MakeDirs(store->blobs_dir_));
  RETURN_IF_ERROR(MakeDirs(store->ingest_dir_, 0700));
  return store;
}

std::string FsBlobStore::BlobPath(const Digest& digest) const {
  const absl::string_view hex = digest.hex();
  return absl::StrCat(blobs_dir_, "/", hex.substr(0, 2), "/", hex);
}

std::string FsBlobStore::UploadDir(const std::string& ref) const {
  return absl::StrCat(ingest_dir_, "/", Digest::Of(ref).hex());
}

absl::StatusOr<BlobInfo> FsBlobStore::Stat(const Digest& digest) {
  const std::string path = BlobPath(digest);
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return BlobNotFound(digest);
    return ErrnoStatus(errno, absl::StrCat("stat blob \"", digest.str(), "\""));
  }
  return BlobInfo{digest, static_cast<int64_t>(st.st_size), ModificationTime(st)};
}

absl::StatusOr<std::unique_ptr<BlobRangeReader>> FsBlobStore::OpenReader(const Digest& digest,
                                                                         int64_t offset,
                                                                         int64_t length) {
  const std::string what = absl::StrCat("read of blob \"", digest.str(), "\"");
  if (offset < 0) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": negative offset ", offset));
  }
  if (length < 0) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": negative length ", length));
  }
  UniqueFd fd(::open(BlobPath(digest).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid()) {
    if (errno == ENOENT || errno == ENOTDIR) return BlobNotFound(digest);
    return ErrnoStatus(errno, absl::StrCat("open blob \"", digest.str(), "\""));
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) {
    return ErrnoStatus(errno, absl::StrCat("stat blob \"", digest.str(), "\""));
  }
  const int64_t size = st.st_size;
  if (offset > size) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": offset ", offset, " is past the end (size ", size, ")"));
  }
  const int64_t end = (length == 0 || length > size - offset) ? size : offset + length;
  ::posix_fadvise(fd.get(), offset, end - offset, POSIX_FADV_SEQUENTIAL);
  auto reader = std::make_unique<FsBlobRangeReader>(std::move(fd),
                                                    BlobInfo{digest, size, ModificationTime(st)},
                                                    offset, end, options_.stream_past_page_cache);
  // The digest covers the whole blob only: a whole read is verified, a range cannot be.
  if (offset == 0 && end == size) return VerifyingReader(std::move(reader));
  return reader;
}

absl::StatusOr<std::string> FsBlobStore::Quarantine(const Digest& digest) {
  RETURN_IF_ERROR(MakeDirs(quarantine_dir_, 0700));
  // A time suffix: the same digest may be damaged again later, and each copy is kept.
  const std::string to =
      absl::StrCat(quarantine_dir_, "/", digest.hex(), ".", absl::ToUnixNanos(absl::Now()));
  const std::string from = BlobPath(digest);
  if (::rename(from.c_str(), to.c_str()) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return BlobNotFound(digest);
    return ErrnoStatus(errno, absl::StrCat("quarantine blob \"", digest.str(), "\""));
  }
  RETURN_IF_ERROR(FsyncDir(Dirname(from)));
  RETURN_IF_ERROR(FsyncDir(quarantine_dir_));
  STRATA_LOG(WARNING) << "blob \"" << digest.str() << "\": damaged, moved to " << to;
  return to;
}

absl::Status FsBlobStore::CheckStoredCopy(const Digest& digest, const std::string& ref) {
  absl::Status verified = VerifyBlob(*this, digest);
  if (!absl::IsDataLoss(verified)) return verified;
  STRATA_LOG(WARNING) << Upload(ref) << ": replaces a damaged copy: " << verified.message();
  absl::StatusOr<std::string> moved = Quarantine(digest);
  if (!moved.ok() && !absl::IsNotFound(moved.status())) return moved.status();
  return BlobNotFound(digest);
}

absl::StatusOr<FsBlobStore::LockedUpload> FsBlobStore::LockExistingUpload(const std::string& ref) {
  const std::string dir = UploadDir(ref);
  for (int attempt = 0; attempt < kOpenAttempts; ++attempt) {
    // Everything goes through the directory's descriptor: should the path be replaced meanwhile,
    // we still only touch the directory we looked at.
    UniqueFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dir_fd.valid()) {
      if (errno == ENOENT) return UploadNotFound(ref);
      return ErrnoStatus(errno, absl::StrCat("open ", dir));
    }
    UniqueFd data(::openat(dir_fd.get(), kDataFile, O_RDWR | O_CLOEXEC | O_NOFOLLOW));
    if (!data.valid()) {
      if (errno != ENOENT) return ErrnoStatus(errno, absl::StrCat("open ", dir, "/", kDataFile));
      // A removal got interrupted (or is under way): finish it, then there is no upload.
      ::unlinkat(dir_fd.get(), kMetaFile, 0);
      ::rmdir(dir.c_str());
      return UploadNotFound(ref);
    }
    if (::flock(data.get(), LOCK_EX | LOCK_NB) != 0) {
      if (errno == EWOULDBLOCK) {
        return absl::AbortedError(
            absl::StrCat(Upload(ref), ": another writer is writing it right now; retry later"));
      }
      return ErrnoStatus(errno, absl::StrCat("lock ", dir, "/", kDataFile));
    }
    // Between open and flock the holder may have committed (renamed the file away) or removed
    // the upload: only the file still named <dir>/data is the upload.
    struct stat held, named;
    if (::fstat(data.get(), &held) != 0) return ErrnoStatus(errno, "fstat upload data");
    if (::fstatat(dir_fd.get(), kDataFile, &named, AT_SYMLINK_NOFOLLOW) != 0 ||
        named.st_ino != held.st_ino || named.st_dev != held.st_dev) {
      absl::SleepFor(absl::Milliseconds(1));
      continue;
    }
    LockedUpload upload;
    upload.dir = dir;
    upload.data = std::move(data);
    upload.size = held.st_size;
    absl::StatusOr<std::string> meta =
        ReadFileAt(dir_fd.get(), kMetaFile, absl::StrCat(dir, "/", kMetaFile));
    absl::Status decoded = meta.ok()
                               ? DecodeMeta(*meta, &upload.ref, &upload.expected, &upload.started)
                               : meta.status();
    if (!decoded.ok()) {
      // Only a crash in the middle of writing the directory leaves this: nothing to resume.
      STRATA_LOG(WARNING) << Upload(ref) << ": removing a damaged upload: " << decoded.message();
      RETURN_IF_ERROR(RemoveUploadDir(dir));
      return UploadNotFound(ref);
    }
    if (upload.ref != ref) {
      return absl::InternalError(absl::StrCat(Upload(ref), ": directory ", dir,
                                              " belongs to upload ", QuoteRef(upload.ref)));
    }
    return upload;
  }
  return absl::AbortedError(
      absl::StrCat(Upload(ref), ": kept changing while being opened; retry later"));
}

absl::StatusOr<FsBlobStore::LockedUpload> FsBlobStore::CreateUpload(
    const std::string& ref, const UploadExpectations& expected) {
  // The directory is prepared under a temporary name and renamed into place whole, so an
  // upload directory always has its data and meta files.
  const std::string temp = absl::StrCat(ingest_dir_, "/", kTempPrefix, RandomHex());
  if (::mkdir(temp.c_str(), 0700) != 0) return ErrnoStatus(errno, absl::StrCat("mkdir ", temp));
  LockedUpload upload;
  upload.dir = UploadDir(ref);
  upload.ref = ref;
  upload.expected = expected;
  upload.started = absl::Now();
  absl::Status status = [&]() -> absl::Status {
    UniqueFd meta(::open(absl::StrCat(temp, "/", kMetaFile).c_str(),
                         O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!meta.valid()) return ErrnoStatus(errno, absl::StrCat("create ", temp, "/", kMetaFile));
    RETURN_IF_ERROR(WriteAll(meta.get(), EncodeMeta(ref, expected, upload.started)));
    if (::fsync(meta.get()) != 0) return ErrnoStatus(errno, "fsync upload metadata");
    upload.data.Reset(::open(absl::StrCat(temp, "/", kDataFile).c_str(),
                             O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!upload.data.valid()) {
      return ErrnoStatus(errno, absl::StrCat("create ", temp, "/", kDataFile));
    }
    if (::flock(upload.data.get(), LOCK_EX | LOCK_NB) != 0) {
      return ErrnoStatus(errno, absl::StrCat("lock ", temp, "/", kDataFile));
    }
    if (expected.size && *expected.size > 0) {
      // Reserve the space up front (less fragmentation, ENOSPC early). The file's size stays
      // the bytes received, which is what a resume reads.
      ::fallocate(upload.data.get(), FALLOC_FL_KEEP_SIZE, 0, *expected.size);
    }
    return FsyncDir(temp);
  }();
  if (status.ok() && RenameNoReplace(temp, upload.dir, /*is_directory=*/true) != 0) {
    if (errno == EEXIST || errno == ENOTEMPTY) {
      status = absl::AlreadyExistsError(absl::StrCat(Upload(ref), ": created concurrently"));
    } else {
      status = ErrnoStatus(errno, absl::StrCat("rename ", temp, " to ", upload.dir));
    }
  }
  if (!status.ok()) {
    upload.data.Reset();
    (void)RemoveAll(temp);
    return status;
  }
  RETURN_IF_ERROR(FsyncDir(ingest_dir_));
  return upload;
}

absl::Status FsBlobStore::RemoveUploadDir(const std::string& dir) {
  // The data file goes first: without it nobody can lock (and so use) the upload any more.
  const std::string data = absl::StrCat(dir, "/", kDataFile);
  if (::unlink(data.c_str()) != 0 && errno != ENOENT) {
    return ErrnoStatus(errno, absl::StrCat("unlink ", data));
  }
  return RemoveAll(dir);
}

absl::StatusOr<std::unique_ptr<IngestWriter>> FsBlobStore::OpenWriter(
    const std::string& ref, const UploadExpectations& expected) {
  RETURN_IF_ERROR(ValidateRef(ref));
  if (expected.size && *expected.size < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(Upload(ref), ": negative expected size ", *expected.size));
  }
  if (expected.digest) {
    absl::StatusOr<BlobInfo> stored = Stat(*expected.digest);
    if (stored.ok()) {
      // Dedupe only onto a sound copy: re-hashing it costs a read of the blob, on this path
      // alone, and a damaged copy is replaced instead of kept for ever.
      absl::Status sound = CheckStoredCopy(*expected.digest, ref);
      if (absl::IsNotFound(sound)) {
        stored = sound;
      } else if (!sound.ok()) {
        return sound;
      }
    }
    if (stored.ok()) {
      if (expected.size && *expected.size != stored->size) {
        return absl::InvalidArgumentError(
            absl::StrCat(Upload(ref), ": size mismatch: blob \"", expected.digest->str(), "\" has ",
                         stored->size, " bytes, expected ", *expected.size));
      }
      // Nothing to write. An upload left under this ref is of no use any more.
      absl::StatusOr<LockedUpload> left = LockExistingUpload(ref);
      if (left.ok()) {
        RETURN_IF_ERROR(RemoveUploadDir(left->dir));
      } else if (!absl::IsNotFound(left.status())) {
        return left.status();
      }
      return absl::AlreadyExistsError(
          absl::StrCat("blob \"", expected.digest->str(), "\": already exists"));
    }
    if (!absl::IsNotFound(stored.status())) return stored.status();
  }
  for (int attempt = 0; attempt < kOpenAttempts; ++attempt) {
    absl::StatusOr<LockedUpload> existing = LockExistingUpload(ref);
    if (existing.ok()) {
      UploadExpectations& had = existing->expected;
      const auto show_digest = [](const std::optional<Digest>& digest) {
        return digest ? absl::StrCat("\"", digest->str(), "\"") : std::string("none");
      };
      const auto show_size = [](const std::optional<int64_t>& size) {
        return size ? absl::StrCat(*size) : std::string("none");
      };
      if (expected.digest && had.digest && expected.digest != had.digest) {
        return absl::FailedPreconditionError(
            absl::StrCat(Upload(ref), ": resuming with expected digest \"", expected.digest->str(),
                         "\", but the upload expects ", show_digest(had.digest)));
      }
      if (expected.size && had.size && expected.size != had.size) {
        return absl::FailedPreconditionError(
            absl::StrCat(Upload(ref), ": resuming with expected size ", *expected.size,
                         ", but the upload expects ", show_size(had.size)));
      }
      if ((expected.digest && !had.digest) || (expected.size && !had.size)) {
        // The resumer knows more than the starter did: check that too, from now on.
        if (expected.digest) had.digest = expected.digest;
        if (expected.size) had.size = expected.size;
        if (had.size && existing->size > *had.size) {
          return absl::InvalidArgumentError(
              absl::StrCat(Upload(ref), ": already holds ", existing->size,
                           " bytes, more than the expected size of ", *had.size));
        }
        RETURN_IF_ERROR(WriteFileAtomically(absl::StrCat(existing->dir, "/", kMetaFile),
                                            EncodeMeta(ref, had, existing->started), 0600));
      }
      return std::make_unique<FsIngestWriter>(this, std::move(*existing));
    }
    if (!absl::IsNotFound(existing.status())) return existing.status();
    absl::StatusOr<LockedUpload> created = CreateUpload(ref, expected);
    if (created.ok()) return std::make_unique<FsIngestWriter>(this, std::move(*created));
    if (!absl::IsAlreadyExists(created.status())) return created.status();
    absl::SleepFor(absl::Milliseconds(1));  // let the concurrent creation or removal finish
  }
  return absl::AbortedError(
      absl::StrCat(Upload(ref), ": kept changing while being opened; retry later"));
}

absl::StatusOr<CommitResult> FsBlobStore::Publish(LockedUpload& upload, const Digest& digest,
                                                  int64_t size) {
  const std::string path = BlobPath(digest);
  const std::string data = absl::StrCat(upload.dir, "/", kDataFile);
  const auto already_existed = [&]() -> absl::StatusOr<CommitResult> {
    if (absl::Status removed = RemoveUploadDir(upload.dir); !removed.ok()) {
      STRATA_LOG(WARNING) << Upload(upload.ref) << ": " << removed.message();
    }
    ASSIGN_OR_RETURN(BlobInfo stored, Stat(digest));
    return CommitResult{digest, stored.size, stored.created, /*already_existed=*/true};
  };
  if (PathExists(path)) {
    absl::Status sound = CheckStoredCopy(digest, upload.ref);
    if (sound.ok()) return already_existed();
    if (!absl::IsNotFound(sound)) return sound;
    // Damaged (now quarantined) or deleted meanwhile: this upload stores it.
  }

  const int fd = upload.data.get();
  const absl::Time created = absl::Now();
  const struct timespec times[2] = {absl::ToTimespec(created), absl::ToTimespec(created)};
  if (::futimens(fd, times) != 0) return ErrnoStatus(errno, absl::StrCat("set time of ", data));
  if (::fchmod(fd, 0444) != 0) return ErrnoStatus(errno, absl::StrCat("chmod ", data));
  if (::fsync(fd) != 0) return ErrnoStatus(errno, absl::StrCat("fsync ", data));

  const std::string shard = Dirname(path);
  if (!PathExists(shard)) {
    RETURN_IF_ERROR(MakeDirs(shard));
    RETURN_IF_ERROR(FsyncDir(blobs_dir_));
  }
  if (RenameNoReplace(data, path, /*is_directory=*/false) != 0) {
    // Another upload of the same bytes committed first: the blob is stored once.
    if (errno == EEXIST) return already_existed();
    return ErrnoStatus(errno, absl::StrCat("rename ", data, " to ", path));
  }
  RETURN_IF_ERROR(FsyncDir(shard));
  if (absl::Status removed = RemoveUploadDir(upload.dir); !removed.ok()) {
    STRATA_LOG(WARNING) << Upload(upload.ref) << ": committed, but " << removed.message();
  }
  return CommitResult{digest, size, created, /*already_existed=*/false};
}

absl::StatusOr<UploadStatus> FsBlobStore::GetUploadStatus(const std::string& ref) {
  RETURN_IF_ERROR(ValidateRef(ref));
  const std::string dir = UploadDir(ref);
  UniqueFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!dir_fd.valid()) {
    if (errno == ENOENT) return UploadNotFound(ref);
    return ErrnoStatus(errno, absl::StrCat("open ", dir));
  }
  UploadStatus status;
  absl::StatusOr<std::string> meta =
      ReadFileAt(dir_fd.get(), kMetaFile, absl::StrCat(dir, "/", kMetaFile));
  if (!meta.ok()) {
    if (absl::IsNotFound(meta.status())) return UploadNotFound(ref);
    return meta.status();
  }
  if (!DecodeMeta(*meta, &status.ref, &status.expected, &status.started).ok() ||
      status.ref != ref) {
    // Damaged: the next OpenWriter replaces it.
    return UploadNotFound(ref);
  }
  struct stat st;
  if (::fstatat(dir_fd.get(), kDataFile, &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return UploadNotFound(ref);
    return ErrnoStatus(errno, absl::StrCat("stat ", dir, "/", kDataFile));
  }
  status.offset = st.st_size;
  status.updated = ModificationTime(st);
  return status;
}

absl::Status FsBlobStore::AbortUpload(const std::string& ref) {
  RETURN_IF_ERROR(ValidateRef(ref));
  ASSIGN_OR_RETURN(LockedUpload upload, LockExistingUpload(ref));
  return RemoveUploadDir(upload.dir);
}

absl::Status FsBlobStore::Delete(const Digest& digest) {
  const std::string path = BlobPath(digest);
  if (::unlink(path.c_str()) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return BlobNotFound(digest);
    return ErrnoStatus(errno, absl::StrCat("delete blob \"", digest.str(), "\""));
  }
  return absl::OkStatus();
}

absl::Status FsBlobStore::Touch(const Digest& digest) {
  const std::string path = BlobPath(digest);
  const absl::Time now = absl::Now();
  // The access time says "used": the modification time stays the commit time (Stat's created).
  struct timespec times[2] = {absl::ToTimespec(now), {}};
  times[1].tv_nsec = UTIME_OMIT;
  if (::utimensat(AT_FDCWD, path.c_str(), times, 0) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return BlobNotFound(digest);
    return ErrnoStatus(errno, absl::StrCat("touch blob \"", digest.str(), "\""));
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> FsBlobStore::DeleteIfUnusedSince(const Digest& digest,
                                                      absl::Time unused_since) {
  const std::string gc_dir = absl::StrCat(root_, "/gc");
  RETURN_IF_ERROR(MakeDirs(gc_dir, 0700));
  const std::string path = BlobPath(digest);
  const std::string doomed = absl::StrCat(gc_dir, "/", digest.hex(), ".", RandomHex());
  if (::rename(path.c_str(), doomed.c_str()) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return BlobNotFound(digest);
    return ErrnoStatus(errno, absl::StrCat("collect blob \"", digest.str(), "\""));
  }
  struct stat st;
  if (::lstat(doomed.c_str(), &st) != 0) {
    return ErrnoStatus(errno, absl::StrCat("collect blob \"", digest.str(), "\""));
  }
  // Committed (mtime) or touched (atime; a read may set it too, which only keeps more).
  if (ModificationTime(st) >= unused_since || absl::TimeFromTimespec(st.st_atim) >= unused_since) {
    // A writer used it meanwhile: back into place. A copy committed there in between has the
    // same bytes, so replacing it loses nothing.
    if (::rename(doomed.c_str(), path.c_str()) != 0) {
      return ErrnoStatus(errno, absl::StrCat("restore blob \"", digest.str(), "\""));
    }
    return false;
  }
  if (::unlink(doomed.c_str()) != 0) {
    return ErrnoStatus(errno, absl::StrCat("delete blob \"", digest.str(), "\""));
  }
  return true;
}

absl::StatusOr<BlobPage> FsBlobStore::List(const std::optional<Digest>& after, int limit) {
  if (limit < 1) {
    return absl::InvalidArgumentError(absl::StrCat("list: page size ", limit, " is below 1"));
  }
  const std::string after_hex = after ? std::string(after->hex()) : std::string();
  const std::string first_shard = after_hex.substr(0, 2);
  ASSIGN_OR_RETURN(std::vector<std::string> shards, ListDir(blobs_dir_));
  shards.erase(std::remove_if(shards.begin(), shards.end(),
                              [&](const std::string& shard) {
                                return !IsBlobName(shard, 2) || shard < first_shard;
                              }),
               shards.end());
  std::sort(shards.begin(), shards.end());
  BlobPage page;
  for (const std::string& shard : shards) {
    const std::string shard_dir = absl::StrCat(blobs_dir_, "/", shard);
    ASSIGN_OR_RETURN(std::vector<std::string> names, ListDir(shard_dir));
    names.erase(std::remove_if(names.begin(), names.end(),
                               [&](const std::string& name) {
                                 return !IsBlobName(name, Digest::kHexLength) ||
                                        !absl::StartsWith(name, shard) || name <= after_hex;
                               }),
                names.end());
    std::sort(names.begin(), names.end());
    for (const std::string& name : names) {
      struct stat st;
      const std::string path = absl::StrCat(shard_dir, "/", name);
      if (::lstat(path.c_str(), &st) != 0) {
        if (errno == ENOENT) continue;  // deleted since the directory was read
        return ErrnoStatus(errno, absl::StrCat("stat ", path));
      }
      if (!S_ISREG(st.st_mode)) continue;
      if (static_cast<int>(page.blobs.size()) == limit) {
        page.more = true;
        return page;
      }
      ASSIGN_OR_RETURN(Digest digest, Digest::FromHex(name));
      page.blobs.push_back(
          BlobInfo{std::move(digest), static_cast<int64_t>(st.st_size), ModificationTime(st)});
    }
  }
  return page;
}

absl::StatusOr<int> FsBlobStore::CleanUpAbandonedUploads(absl::Duration max_age) {
  const absl::Time cutoff = absl::Now() - max_age;
  ASSIGN_OR_RETURN(std::vector<std::string> names, ListDir(ingest_dir_));
  int removed = 0;
  for (const std::string& name : names) {
    const std::string path = absl::StrCat(ingest_dir_, "/", name);
    if (absl::StartsWith(name, kTempPrefix)) {
      // A directory a crashed writer was preparing.
      struct stat st;
      if (::lstat(path.c_str(), &st) == 0 && ModificationTime(st) < cutoff) {
        RETURN_IF_ERROR(RemoveAll(path));
        ++removed;
      }
      continue;
    }
    if (!IsBlobName(name, Digest::kHexLength)) continue;
    UniqueFd dir_fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dir_fd.valid()) continue;
    UniqueFd data(::openat(dir_fd.get(), kDataFile, O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!data.valid()) {
      // An interrupted removal: finish it once it is old enough not to be under way.
      struct stat st;
      if (errno == ENOENT && ::fstat(dir_fd.get(), &st) == 0 && ModificationTime(st) < cutoff) {
        ::unlinkat(dir_fd.get(), kMetaFile, 0);
        if (::rmdir(path.c_str()) == 0) ++removed;
      }
      continue;
    }
    if (::flock(data.get(), LOCK_EX | LOCK_NB) != 0) continue;  // a writer holds it
    struct stat held, named;
    if (::fstat(data.get(), &held) != 0 ||
        ::fstatat(dir_fd.get(), kDataFile, &named, AT_SYMLINK_NOFOLLOW) != 0 ||
        named.st_ino != held.st_ino || named.st_dev != held.st_dev) {
      continue;  // committed or removed meanwhile
    }
    if (ModificationTime(held) >= cutoff) continue;
    RETURN_IF_ERROR(RemoveUploadDir(path));
    ++removed;
  }
  return removed;
}

}  // namespace strata::layerstore
