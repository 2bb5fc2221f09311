#ifndef STRATA_SERVICES_LAYERSTORE_CORE_UPLOAD_JANITOR_H_
#define STRATA_SERVICES_LAYERSTORE_CORE_UPLOAD_JANITOR_H_

// Discards abandoned uploads in the background: every `interval`, uploads that no writer holds
// and that received nothing for `max_age` go (BlobStore::CleanUpAbandonedUploads). Several
// replicas may each run one over a shared store: the store's locks keep them apart.

#include <condition_variable>
#include <mutex>
#include <thread>

#include "absl/time/time.h"
#include "services/layerstore/core/blob_store.h"

namespace strata::layerstore {

class UploadJanitor {
 public:
  // Starts the thread; the first sweep runs at once. The store must outlive the janitor.
  UploadJanitor(BlobStore* store, absl::Duration max_age, absl::Duration interval);
  // Stops the thread (waiting for a sweep under way).
  ~UploadJanitor();
  UploadJanitor(const UploadJanitor&) = delete;
  UploadJanitor& operator=(const UploadJanitor&) = delete;

  // The sweep interval main uses for a given max age: often enough that an upload goes soon
  // after max_age, rarely enough to cost nothing.
  static absl::Duration IntervalFor(absl::Duration max_age);

 private:
  void Run();

  BlobStore* const store_;
  const absl::Duration max_age_;
  const absl::Duration interval_;
  std::mutex mutex_;
  std::condition_variable stop_requested_;
  bool stopping_ = false;  // guarded by mutex_
  std::thread thread_;
};

}  // namespace strata::layerstore

#endif  // STRATA_SERVICES_LAYERSTORE_CORE_UPLOAD_JANITOR_H_
