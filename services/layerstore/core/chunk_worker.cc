#include "services/layerstore/core/chunk_worker.h"

#include <utility>

namespace strata::layerstore {

ChunkWorker::ChunkWorker(size_t max_queued_bytes, std::function<absl::Status()> start,
                         std::function<absl::Status(const Chunk&)> process)
    : max_queued_bytes_(max_queued_bytes),
      start_(std::move(start)),
      process_(std::move(process)),
      thread_([this] { Run(); }) {}

ChunkWorker::~ChunkWorker() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

absl::Status ChunkWorker::Add(Chunk chunk) {
  const size_t size = chunk.data->size();
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [&] {
    return queued_bytes_ == 0 || queued_bytes_ + size <= max_queued_bytes_ || !status_.ok();
  });
  if (!status_.ok()) return status_;
  queue_.push_back(std::move(chunk));
  queued_bytes_ += size;
  lock.unlock();
  changed_.notify_all();
  return absl::OkStatus();
}

absl::Status ChunkWorker::Drain() {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [&] { return (queue_.empty() && !busy_) || !status_.ok(); });
  return status_;
}

void ChunkWorker::Run() {
  absl::Status started = start_ ? start_() : absl::OkStatus();
  std::unique_lock<std::mutex> lock(mutex_);
  status_ = started;
  for (;;) {
    busy_ = false;
    changed_.notify_all();
    changed_.wait(lock, [&] { return !queue_.empty() || stopping_; });
    if (queue_.empty()) return;  // stopping, nothing left
    if (stopping_ && !finish_on_destroy_) return;
    Chunk chunk = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    const bool ok = status_.ok();
    lock.unlock();
    // After an error chunks are only dropped, so that Add never waits for ever.
    absl::Status processed = ok ? process_(chunk) : absl::OkStatus();
    const size_t size = chunk.data->size();
    chunk.data.reset();
    lock.lock();
    queued_bytes_ -= size;
    if (status_.ok() && !processed.ok()) status_ = processed;
  }
}

}  // namespace strata::layerstore
