#include "lib/layer/gzip_sink.h"

#include <libdeflate.h>

#include <algorithm>
#include <deque>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "lib/base/errors.h"

namespace strata::layer {
namespace {

// One block of input and, once a worker is done with it, its gzip member.
struct Block {
  std::string input;
  std::string member;
  bool done = false;
  absl::Status status;
};

absl::Status CompressBlock(libdeflate_compressor* compressor, Block* block) {
  block->member.resize(libdeflate_gzip_compress_bound(compressor, block->input.size()));
  const size_t size = libdeflate_gzip_compress(compressor, block->input.data(), block->input.size(),
                                               block->member.data(), block->member.size());
  // The bound is libdeflate's own, so no room can only mean a broken library.
  if (size == 0) return absl::InternalError("gzip: libdeflate found no room for a block");
  block->member.resize(size);
  return absl::OkStatus();
}

class GzipSink : public ByteSink {
 public:
  GzipSink(ByteSink* next, int level, int threads)
      : next_(next), level_(std::clamp(level, 1, 12)), threads_(std::max(threads, 1)) {
    current_ = NewBlock();
    if (threads_ == 1) {
      inline_compressor_ = libdeflate_alloc_compressor(level_);
      return;
    }
    for (int i = 0; i < threads_; ++i) workers_.emplace_back([this] { Work(); });
  }

  ~GzipSink() override {
    {
      absl::MutexLock lock(&mutex_);
      stopping_ = true;
      queue_.clear();  // after an error: what is still queued will never be written
    }
    for (std::thread& worker : workers_) worker.join();
    if (inline_compressor_ != nullptr) libdeflate_free_compressor(inline_compressor_);
  }

  absl::Status Write(absl::string_view data) override {
    RETURN_IF_ERROR(failed_);
    while (!data.empty()) {
      const size_t room = kGzipBlockSize - current_->input.size();
      const size_t take = std::min(room, data.size());
      current_->input.append(data.data(), take);
      data.remove_prefix(take);
      if (current_->input.size() == kGzipBlockSize) RETURN_IF_ERROR(Fail(Submit()));
    }
    return absl::OkStatus();
  }

  absl::Status Close() override {
    RETURN_IF_ERROR(failed_);
    // An empty stream is still one (empty) member: a gzip reader refuses zero bytes.
    if (!current_->input.empty() || !submitted_any_) RETURN_IF_ERROR(Fail(Submit()));
    while (!in_order_.empty()) RETURN_IF_ERROR(Fail(WriteOldest()));
    return Fail(next_->Close());
  }

 private:
  std::unique_ptr<Block> NewBlock() {
    std::unique_ptr<Block> block;
    if (!spare_.empty()) {
      block = std::move(spare_.back());
      spare_.pop_back();
    } else {
      block = std::make_unique<Block>();
      block->input.reserve(kGzipBlockSize);
    }
    block->input.clear();
    block->done = false;
    block->status = absl::OkStatus();
    return block;
  }

  // Hands the current block to the workers (or compresses it here with one thread) and starts
  // a new one; keeps at most two blocks per worker in flight so memory stays bounded.
  absl::Status Submit() {
    submitted_any_ = true;
    if (threads_ == 1) {
      RETURN_IF_ERROR(CompressBlock(inline_compressor_, current_.get()));
      RETURN_IF_ERROR(next_->Write(current_->member));
      current_->input.clear();
      return absl::OkStatus();
    }
    while (in_order_.size() >= static_cast<size_t>(2 * threads_)) RETURN_IF_ERROR(WriteOldest());
    Block* block = current_.get();
    in_order_.push_back(std::move(current_));
    {
      absl::MutexLock lock(&mutex_);
      queue_.push_back(block);
    }
    current_ = NewBlock();
    return absl::OkStatus();
  }

  // Waits for the oldest block in flight and writes its member to next.
  absl::Status WriteOldest() {
    Block* oldest = in_order_.front().get();
    {
      absl::MutexLock lock(&mutex_);
      mutex_.Await(absl::Condition(&oldest->done));
    }
    RETURN_IF_ERROR(oldest->status);
    RETURN_IF_ERROR(next_->Write(oldest->member));
    spare_.push_back(std::move(in_order_.front()));
    in_order_.pop_front();
    return absl::OkStatus();
  }

  void Work() {
    libdeflate_compressor* compressor = libdeflate_alloc_compressor(level_);
    for (;;) {
      Block* block = nullptr;
      {
        absl::MutexLock lock(&mutex_);
        mutex_.Await(absl::Condition(
            +[](GzipSink* sink) { return sink->stopping_ || !sink->queue_.empty(); }, this));
        if (queue_.empty()) break;  // stopping, nothing left
        block = queue_.front();
        queue_.pop_front();
      }
      absl::Status status = compressor == nullptr
                                ? absl::ResourceExhaustedError("gzip: no memory for a compressor")
                                : CompressBlock(compressor, block);
      absl::MutexLock lock(&mutex_);
      block->status = std::move(status);
      block->done = true;
    }
    if (compressor != nullptr) libdeflate_free_compressor(compressor);
  }

  absl::Status Fail(absl::Status status) {
    if (!status.ok() && failed_.ok()) failed_ = status;
    return status;
  }

  ByteSink* const next_;
  const int level_;
  const int threads_;
  libdeflate_compressor* inline_compressor_ = nullptr;

  // The caller's side: the block being filled, the blocks in flight in stream order, and
  // finished blocks kept for reuse.
  std::unique_ptr<Block> current_;
  std::deque<std::unique_ptr<Block>> in_order_;
  std::vector<std::unique_ptr<Block>> spare_;
  bool submitted_any_ = false;
  absl::Status failed_;

  absl::Mutex mutex_;
  std::deque<Block*> queue_;  // guarded by mutex_, as are every block's done and status
  bool stopping_ = false;     // guarded by mutex_
  std::vector<std::thread> workers_;
};

}  // namespace

std::unique_ptr<ByteSink> NewGzipSink(ByteSink* next, int level, int threads) {
  return std::make_unique<GzipSink>(next, level, threads);
}

}  // namespace strata::layer
