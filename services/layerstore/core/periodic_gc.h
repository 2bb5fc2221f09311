#ifndef STRATA_SERVICES_LAYERSTORE_CORE_PERIODIC_GC_H_
#define STRATA_SERVICES_LAYERSTORE_CORE_PERIODIC_GC_H_

// Runs CollectGarbage (blob_gc.h) every `interval` on a thread of its own (the layerstore's
// --gc-interval; off by default). Failures are logged and tried again at the next interval.
// Several replicas may each run one: collections of one store are safe together.

#include <condition_variable>
#include <mutex>
#include <thread>

#include "absl/time/time.h"
#include "services/layerstore/core/blob_gc.h"

namespace strata::layerstore {

class PeriodicGc {
 public:
  // The first collection runs after one interval. The stores must outlive this.
  PeriodicGc(BlobStore* store, LeaseStore* leases, ReferencedBlobs referenced,
             GcOptions options, absl::Duration interval);
  ~PeriodicGc();
  PeriodicGc(const PeriodicGc&) = delete;
  PeriodicGc& operator=(const PeriodicGc&) = delete;

 private:
  void Run();

  BlobStore* const store_;
  LeaseStore* const leases_;
  const ReferencedBlobs referenced_;
  const GcOptions options_;
  const absl::Duration interval_;
  std::mutex mutex_;
  std::condition_variable stop_requested_;
  bool stopping_ = false;  // guarded by mutex_
  std::thread thread_;
};

}  // namespace strata::layerstore

#endif  // STRATA_SERVICES_LAYERSTORE_CORE_PERIODIC_GC_H_
