#include "services/layerstore/core/periodic_gc.h"

#include <utility>

#include "lib/base/log.h"

namespace strata::layerstore {

PeriodicGc::PeriodicGc(BlobStore* store, LeaseStore* leases, ReferencedBlobs referenced,
                       GcOptions options, absl::Duration interval)
    : store_(store),
      leases_(leases),
      referenced_(std::move(referenced)),
      options_(options),
      interval_(interval),
      thread_([this] { Run(); }) {}

PeriodicGc::~PeriodicGc() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  stop_requested_.notify_all();
  thread_.join();
}

void PeriodicGc::Run() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    stop_requested_.wait_for(lock, absl::ToChronoMilliseconds(interval_),
                             [this] { return stopping_; });
    if (stopping_) return;
    lock.unlock();
    absl::StatusOr<GcReport> report = CollectGarbage(*store_, *leases_, referenced_, options_);
    if (!report.ok()) {
      STRATA_LOG(WARNING) << "garbage collection: " << report.status().message();
    } else if (!report->removed.empty() || report->uploads_removed > 0) {
      STRATA_LOG(INFO) << "garbage collection removed " << report->removed.size()
                       << " blob(s), " << report->bytes_removed << " bytes, "
                       << report->uploads_removed << " upload(s)";
    }
    lock.lock();
  }
}

}  // namespace strata::layerstore
