#include "services/layerstore/core/upload_janitor.h"

#include <algorithm>

#include "lib/base/log.h"

namespace strata::layerstore {

UploadJanitor::UploadJanitor(BlobStore* store, absl::Duration max_age, absl::Duration interval)
    : store_(store), max_age_(max_age), interval_(interval), thread_([this] { Run(); }) {}

UploadJanitor::~UploadJanitor() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  stop_requested_.notify_all();
  thread_.join();
}

absl::Duration UploadJanitor::IntervalFor(absl::Duration max_age) {
  return std::clamp(max_age / 4, absl::Seconds(1), absl::Minutes(10));
}

void UploadJanitor::Run() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    absl::StatusOr<int> removed = store_->CleanUpAbandonedUploads(max_age_);
    if (!removed.ok()) {
      STRATA_LOG(WARNING) << "cleaning up abandoned uploads: " << removed.status().message();
    } else if (*removed > 0) {
      STRATA_LOG(INFO) << "discarded " << *removed << " upload(s) idle for over "
                       << absl::FormatDuration(max_age_);
    }
    lock.lock();
    stop_requested_.wait_for(lock, absl::ToChronoMilliseconds(interval_),
                             [this] { return stopping_; });
  }
}

}  // namespace strata::layerstore
