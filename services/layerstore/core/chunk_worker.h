#ifndef STRATA_SERVICES_LAYERSTORE_CORE_CHUNK_WORKER_H_
#define STRATA_SERVICES_LAYERSTORE_CORE_CHUNK_WORKER_H_

// One stage of an upload's pipeline on a thread of its own: chunks queue up and a function
// runs on each, in order. An upload runs two (hashing and writing to disk) over the same chunks,
// so that SHA-256, the copy into the page cache and receiving the next chunk all overlap: on
// one thread they add up, and each is about as slow as the others.

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/status.h"

namespace strata::layerstore {

class ChunkWorker {
 public:
  struct Chunk {
    // Shared between the stages; read-only.
    std::shared_ptr<const std::string> data;
    // Where the chunk starts within the blob.
    int64_t offset = 0;
  };

  // Runs `start` first (e.g. hashing what a resumed upload received earlier), then `process` on
  // each chunk in the order added. The first error stops the work: later chunks are dropped
  // and Add and Drain return the error. At most max_queued_bytes of chunks wait; Add blocks
  // beyond that (a chunk larger than that waits for an empty queue).
  ChunkWorker(size_t max_queued_bytes, std::function<absl::Status()> start,
              std::function<absl::Status(const Chunk&)> process);
  // Stops and joins the thread. Chunks still queued are processed first when
  // finish_on_destroy() was asked for, else dropped.
  ~ChunkWorker();
  ChunkWorker(const ChunkWorker&) = delete;
  ChunkWorker& operator=(const ChunkWorker&) = delete;

  // Process what is queued even when destroyed early (a disk writer: bytes received are worth
  // keeping for a resume).
  void finish_on_destroy() { finish_on_destroy_ = true; }

  // Queues a chunk. Errors: the first error of start or process so far.
  absl::Status Add(Chunk chunk);

  // Waits until every chunk added is processed. Errors: the first error so far.
  absl::Status Drain();

 private:
  void Run();

  const size_t max_queued_bytes_;
  const std::function<absl::Status()> start_;
  const std::function<absl::Status(const Chunk&)> process_;
  bool finish_on_destroy_ = false;

  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Chunk> queue_;  // guarded by mutex_
  size_t queued_bytes_ = 0;  // guarded by mutex_; includes the chunk being processed
  bool busy_ = true;         // guarded by mutex_; start or a chunk is being processed
  bool stopping_ = false;    // guarded by mutex_
  absl::Status status_;      // guarded by mutex_

  std::thread thread_;
};

}  // namespace strata::layerstore

#endif  // STRATA_SERVICES_LAYERSTORE_CORE_CHUNK_WORKER_H_
