#ifndef STRATA_SERVICES_RUNTIME_CORE_BLOB_STORE_H_
#define STRATA_SERVICES_RUNTIME_CORE_BLOB_STORE_H_

// What the runtime needs from the layer store: read a blob as a stream, and upload one as a
// stream that becomes visible only when committed. The service wires this to layerstore's
// gRPC client; the core never sees gRPC.

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "lib/digest/digest.h"
#include "lib/layer/stream.h"

namespace strata::runtime {

// An upload in progress. Write() streams bytes; Commit() verifies them against the expected
// digest and size and makes the blob visible; Abort() discards everything (also what the
// destructor does for an upload neither committed nor aborted).
class BlobUpload : public layer::ByteSink {
 public:
  // Errors: INVALID_ARGUMENT (digest or size mismatch: nothing is kept), UNAVAILABLE.
  virtual absl::Status Commit(const Digest& digest, int64_t size) = 0;
  virtual void Abort() = 0;
};

class BlobStore {
 public:
  virtual ~BlobStore() = default;
  // Errors: NOT_FOUND (no such blob), UNAVAILABLE (the store is unreachable).
  virtual absl::StatusOr<std::unique_ptr<layer::ByteSource>> Open(const Digest& digest) = 0;
  // ref names the upload (unique per upload). Errors: UNAVAILABLE, ABORTED (ref busy).
  virtual absl::StatusOr<std::unique_ptr<BlobUpload>> StartUpload(const std::string& ref) = 0;
  // The same, recorded under the writer's layerstore lease (empty: none) so garbage collection
  // keeps the blob until the writer recorded its image. Errors: also FAILED_PRECONDITION (the
  // lease expired).
  virtual absl::StatusOr<std::unique_ptr<BlobUpload>> StartLeasedUpload(const std::string& ref,
                                                                        const std::string& lease) {
    return StartUpload(ref);
  }
};

}  // namespace strata::runtime

#endif  // STRATA_SERVICES_RUNTIME_CORE_BLOB_STORE_H_
