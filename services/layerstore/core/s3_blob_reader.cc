// S3BlobStore's reader: one streamed GET per range, on a thread of its own.

#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "services/layerstore/core/s3_internal.h"

namespace strata::layerstore {
namespace {

// Bytes the GET may run ahead of the reader.
constexpr size_t kMaxQueued = 8 << 20;
// Connection errors in the middle of a range are resumed this many times.
constexpr int kResumes = 5;

class S3RangeReader final : public BlobRangeReader {
 public:
  S3RangeReader(s3::S3Client* client, std::string key, BlobInfo info, std::string etag,
                int64_t offset, int64_t end)
      : client_(client),
        key_(std::move(key)),
        info_(std::move(info)),
        etag_(std::move(etag)),
        position_(offset),
        fetched_(offset),
        end_(end) {
    if (end_ > offset) thread_ = std::thread([this] { Fetch(); });
  }

  ~S3RangeReader() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      cancel_.store(true);
    }
    space_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  const BlobInfo& info() const override { return info_; }
  int64_t position() const override { return position_; }
  int64_t remaining() const override { return end_ - position_; }

  absl::StatusOr<size_t> Read(char* buffer, size_t capacity) override {
    if (position_ >= end_ || capacity == 0) return 0;
    std::unique_lock<std::mutex> lock(mutex_);
    data_.wait(lock, [&] { return !queue_.empty() || done_; });
    if (queue_.empty()) {
      if (!status_.ok()) return status_;
      return absl::DataLossError(absl::StrCat("blob \"", info_.digest.str(), "\": ends at ",
                                              position_, " bytes, expected ", end_));
    }
    std::string& front = queue_.front();
    const size_t n = std::min(capacity, front.size() - front_used_);
    std::memcpy(buffer, front.data() + front_used_, n);
    front_used_ += n;
    queued_ -= n;
    if (front_used_ == front.size()) {
      queue_.pop_front();
      front_used_ = 0;
    }
    position_ += static_cast<int64_t>(n);
    lock.unlock();
    space_.notify_all();
    return n;
  }

 private:
  void Fetch() {
    absl::Status status;
    for (int attempt = 0; attempt <= kResumes; ++attempt) {
      const int64_t from = fetched_;
      status = client_->Get(
          key_, from, end_ - from, attempt == 0 ? std::string() : etag_,
          [this](absl::string_view chunk) -> absl::Status {
            // A server may send more than asked for (a 200 to a ranged GET): stop at the end.
            const int64_t room = end_ - fetched_;
            if (room <= 0) return absl::OkStatus();
            if (static_cast<int64_t>(chunk.size()) > room) chunk = chunk.substr(0, room);
            std::unique_lock<std::mutex> lock(mutex_);
            space_.wait(lock, [&] { return queued_ < kMaxQueued || cancel_.load(); });
            if (cancel_.load()) return absl::CancelledError("reader closed");
            queue_.emplace_back(chunk);
            queued_ += chunk.size();
            fetched_ += static_cast<int64_t>(chunk.size());
            lock.unlock();
            data_.notify_all();
            return absl::OkStatus();
          },
          &cancel_);
      if (status.ok() || !absl::IsUnavailable(status) || cancel_.load() || fetched_ >= end_) {
        break;
      }
    }
    std::lock_guard<std::mutex> lock(mutex_);
    if (status.ok() && fetched_ < end_) {
      status = absl::DataLossError(absl::StrCat("blob \"", info_.digest.str(), "\": ends at ",
                                                fetched_, " bytes, expected ", end_));
    }
    status_ = status;
    done_ = true;
    data_.notify_all();
  }

  s3::S3Client* const client_;
  const std::string key_;
  const BlobInfo info_;
  const std::string etag_;
  int64_t position_;  // the reader's
  int64_t fetched_;   // the fetch thread's
  const int64_t end_;
  std::mutex mutex_;
  std::condition_variable data_;
  std::condition_variable space_;
  std::deque<std::string> queue_;  // guarded by mutex_
  size_t front_used_ = 0;
  size_t queued_ = 0;
  bool done_ = false;
  absl::Status status_;
  std::atomic<bool> cancel_{false};
  std::thread thread_;
};

}  // namespace

std::unique_ptr<BlobRangeReader> MakeS3RangeReader(s3::S3Client* client, std::string key,
                                                   BlobInfo info, std::string etag, int64_t offset,
                                                   int64_t end) {
  return std::make_unique<S3RangeReader>(client, std::move(key), std::move(info), std::move(etag),
                                         offset, end);
}

}  // namespace strata::layerstore
