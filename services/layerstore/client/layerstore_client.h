#ifndef STRATA_SERVICES_LAYERSTORE_CLIENT_LAYERSTORE_CLIENT_H_
#define STRATA_SERVICES_LAYERSTORE_CLIENT_LAYERSTORE_CLIENT_H_

// The layerstore client the runtime and the CLI use: strata.layerstore.v1 behind plain C++
// types and absl::Status (error codes as the .proto documents them; UNAVAILABLE when the
// service cannot be reached, DEADLINE_EXCEEDED when a call runs out of time).
//
//   LayerstoreClient layerstore(*rpc::Dial({.address = "127.0.0.1:7420"}));
//
//   // Upload, e.g. from a compressor's output callback. Bytes stream out in ~1 MiB chunks
//   // from a thread of the writer's own while the producer goes on.
//   ASSIGN_OR_RETURN(auto writer, layerstore.OpenWriter("commit-" + container_id));
//   // (A ref whose earlier upload was cut resumes: writer->offset() says where to go on.)
//   RETURN_IF_ERROR(writer->Write(bytes));            // as often as needed
//   ASSIGN_OR_RETURN(CommitResult blob, writer->Commit());  // blob.digest, blob.size
//
//   // Download, pull-based (fits a libarchive read callback).
//   ASSIGN_OR_RETURN(auto reader, layerstore.OpenReader(digest));
//   for (;;) {
//     ASSIGN_OR_RETURN(absl::string_view chunk, reader->Next());
//     if (chunk.empty()) break;
//     Consume(chunk);
//   }
//
// A LayerstoreClient is thread-safe; readers and writers are used by one thread each and may
// outlive the client. Processes that move large blobs should call TuneMallocForStreaming()
// (//lib/base:malloc_tuning) at the top of main: it halves the CPU a transfer
// costs under virtualisation.

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "lib/digest/digest.h"
#include "services/layerstore/core/blob_types.h"
#include "strata/layerstore/v1/layerstore.grpc.pb.h"

namespace strata::layerstore {

struct LayerstoreClientOptions {
  // Deadline of each unary call (Stat, WriteStatus, AbortWrite, Delete, List).
  absl::Duration call_timeout = absl::Seconds(30);
  // Deadline of each Read and Write stream, from when it is opened. Blobs can be large: none
  // by default.
  absl::Duration stream_timeout = absl::InfiniteDuration();
  // Chunks a BlobWriter buffers for sending before Write blocks the producer (about 1 MiB
  // each): the memory a writer holds, and how far the producer may run ahead of the network.
  int max_queued_chunks = 4;
};

// A blob, or a range of it, as a pull stream.
class BlobReader {
 public:
  // Cancels the call when it was not read to the end.
  virtual ~BlobReader() = default;

  // The next chunk (about 1 MiB), valid until the next call; an empty view at the end.
  // Errors: the call's (DEADLINE_EXCEEDED, UNAVAILABLE, CANCELLED, ...), DATA_LOSS when the
  // server's chunks do not follow each other. After an error or the end, returns the same.
  virtual absl::StatusOr<absl::string_view> Next() = 0;

  // Offset within the blob of the next byte Next returns.
  virtual int64_t offset() const = 0;
};

// An upload in progress. Write buffers bytes into chunks of about 1 MiB which a thread of the
// writer streams to the server as they fill, so the producer waits for the network only when
// max_queued_chunks are already waiting. The writer never holds more than those chunks.
class BlobWriter {
 public:
  // Without Commit, Suspend or Abort before: Abort.
  virtual ~BlobWriter() = default;

  virtual const std::string& ref() const = 0;
  // Offset within the blob of the next byte Write takes. Non-zero at open when an earlier
  // upload of the ref was cut: write the blob from there on (or Abort and start over).
  virtual int64_t offset() const = 0;

  // Appends bytes. Errors: what the server ended the upload with (INVALID_ARGUMENT,
  // ABORTED when another writer holds the ref, FAILED_PRECONDITION, UNAVAILABLE, ...), and
  // FAILED_PRECONDITION after Commit/Abort/Suspend. When the server reports mid-way that the
  // expected digest is already stored, further bytes are dropped and Write succeeds.
  virtual absl::Status Write(absl::string_view data) = 0;

  // Like Write, but takes the caller's buffer: one copy less for producers that fill a fresh
  // buffer each time (read(2) into a string, a compressor's output). A buffer of about a chunk
  // (256 KiB to 1 MiB) that arrives when nothing is buffered is sent as it is; others are
  // copied as Write does.
  virtual absl::Status WriteBuffer(std::string buffer) = 0;

  // Sends what is buffered, asks the server to verify and store the blob, and waits for it.
  // Errors: INVALID_ARGUMENT (size or digest mismatch: the message names both, nothing is
  // kept), the call's errors.
  virtual absl::StatusOr<CommitResult> Commit() = 0;

  // Cancels the stream and discards the upload on the server, so nothing partial stays.
  // Best effort: a server that cannot be reached keeps it until its abandoned-upload cleanup.
  virtual void Abort() = 0;

  // Sends what is buffered and ends the stream without committing: the upload stays on the
  // server, and OpenWriter with the same ref resumes it. Errors: the call's.
  virtual absl::Status Suspend() = 0;
};

// A lease as the layerstore reports it.
struct LeaseInfo {
  std::string id;
  absl::Time created;
  absl::Time expires;
  std::vector<std::string> digests;  // ListLeases only
  std::vector<std::string> uploads;
};

// A page of List.
struct BlobListing {
  std::vector<BlobInfo> blobs;
  // Pass to List for the next page; empty on the last page.
  std::string next_page_token;
};

class LayerstoreClient {
 public:
  explicit LayerstoreClient(std::shared_ptr<grpc::Channel> channel,
                            LayerstoreClientOptions options = LayerstoreClientOptions());
  ~LayerstoreClient();

  // Errors: NOT_FOUND, UNAVAILABLE, DEADLINE_EXCEEDED.
  absl::StatusOr<BlobInfo> Stat(const Digest& digest);

  // Opens `length` bytes from `offset` (0: to the end; a range past the end stops there).
  // Errors (reported here, before any data): INVALID_ARGUMENT (negative offset or length,
  // offset past the end), NOT_FOUND, UNAVAILABLE.
  absl::StatusOr<std::unique_ptr<BlobReader>> OpenReader(const Digest& digest, int64_t offset = 0,
                                                         int64_t length = 0);

  // Starts the upload `ref` (any string up to 256 bytes naming it, e.g. "commit-<id>"), or
  // resumes the one in progress under that ref (see BlobWriter::offset). expected and
  // expected_size, when given, are verified on commit.
  // Errors: INVALID_ARGUMENT (empty ref), FAILED_PRECONDITION (the upload being resumed
  // expects another digest or size), UNAVAILABLE; errors the server decides after the start
  // (ABORTED: another writer holds the ref) come from Write or Commit.
  // `lease`, when not empty, is the writer's lease (CreateLease): the upload and its blob are
  // recorded under it, so garbage collection keeps them while it lives (FAILED_PRECONDITION
  // from Write or Commit when it expired).
  absl::StatusOr<std::unique_ptr<BlobWriter>> OpenWriter(const std::string& ref,
                                                         std::optional<Digest> expected = {},
                                                         std::optional<int64_t> expected_size = {},
                                                         const std::string& lease = "");

  // Uploads `data` whole under ref (resuming an upload of it that was cut).
  absl::StatusOr<CommitResult> Put(const std::string& ref, absl::string_view data,
                                   std::optional<Digest> expected = {},
                                   const std::string& lease = "");

  // Reads a whole blob into memory: for small ones (image configs).
  // Errors: as OpenReader, and RESOURCE_EXHAUSTED when the blob is over max_size.
  absl::StatusOr<std::string> ReadAll(const Digest& digest, int64_t max_size = 64 << 20);

  // How far the upload `ref` got. Errors: INVALID_ARGUMENT (empty ref), NOT_FOUND.
  absl::StatusOr<UploadStatus> WriteStatus(const std::string& ref);

  // Discards the upload `ref`. Errors: NOT_FOUND, ABORTED (being written right now).
  absl::Status AbortWrite(const std::string& ref);

  // Errors: NOT_FOUND.
  absl::Status Delete(const Digest& digest);

  // One page of blobs in digest order (page_size 0: the server's default of 1000).
  // Errors: INVALID_ARGUMENT (negative page size, malformed token).
  absl::StatusOr<BlobListing> List(int page_size = 0, const std::string& page_token = "");

  // Every blob, page by page.
  absl::StatusOr<std::vector<BlobInfo>> ListAll();

  // Scrubs the store: re-hashes every blob and quarantines the damaged ones (the Check RPC).
  // on_progress, when set, sees the counts as the server reports them (about once a second).
  // The call has the stream timeout (none by default): it reads the whole store.
  // Errors: the call's (UNAVAILABLE, CANCELLED, ...), the server's storage errors.
  absl::StatusOr<ScrubReport> Check(
      const std::function<void(const ScrubReport&)>& on_progress = nullptr);

  // Leases (see the .proto). Errors: INVALID_ARGUMENT, NOT_FOUND (renew, delete: no such
  // lease, or it expired), UNIMPLEMENTED (the backend keeps no leases), the call's.
  absl::StatusOr<LeaseInfo> CreateLease(absl::Duration ttl);
  absl::StatusOr<LeaseInfo> RenewLease(const std::string& id, absl::Duration ttl);
  absl::Status DeleteLease(const std::string& id);
  absl::StatusOr<std::vector<LeaseInfo>> ListLeases();

  // Collects garbage (the CollectGarbage RPC; the call has the stream timeout).
  // Errors: FAILED_PRECONDITION (backend, or no imagegraph configured), UNAVAILABLE, ...
  absl::StatusOr<GcReport> CollectGarbage(bool dry_run = false,
                                          absl::Duration upload_grace = absl::ZeroDuration());

 private:
  std::shared_ptr<v1::LayerStore::Stub> stub_;
  const LayerstoreClientOptions options_;
};

// A writer's lease, held while it writes: taken at Take, renewed every third of its ttl on a
// thread of its own (so a long transfer keeps it), deleted by Release or destruction. With a
// layerstore that keeps no leases (UNIMPLEMENTED) it holds none: id() is empty and writes go
// unleased. Thread-safe.
class LeaseHolder {
 public:
  // Errors: CreateLease's, but UNIMPLEMENTED.
  static absl::StatusOr<std::unique_ptr<LeaseHolder>> Take(LayerstoreClient* client,
                                                           absl::Duration ttl);
  ~LeaseHolder();
  LeaseHolder(const LeaseHolder&) = delete;
  LeaseHolder& operator=(const LeaseHolder&) = delete;

  // "" when the layerstore keeps no leases.
  const std::string& id() const { return id_; }

  // OK while the lease held throughout; ABORTED when a renewal found it expired (what was
  // written under it may have been collected: write again under a new lease). Call before
  // recording what was written.
  absl::Status Check();

  // Stops renewing and deletes the lease. Errors: the call's (the lease then expires by itself).
  absl::Status Release();

 private:
  LeaseHolder(LayerstoreClient* client, std::string id, absl::Duration ttl);
  void RenewLoop();
  void Stop();

  LayerstoreClient* const client_;
  const std::string id_;
  const absl::Duration ttl_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;      // guarded by mutex_
  absl::Status lost_;          // guarded by mutex_
  std::thread renewer_;
};

}  // namespace strata::layerstore

#endif  // STRATA_SERVICES_LAYERSTORE_CLIENT_LAYERSTORE_CLIENT_H_
