#ifndef STRATA_SERVICES_LAYERSTORE_CORE_S3_UPLOAD_STATE_H_
#define STRATA_SERVICES_LAYERSTORE_CORE_S3_UPLOAD_STATE_H_

// The state of one upload of S3BlobStore, kept in the bucket itself (the object
// uploads/<sha256 of the ref>/state) so that every replica sees it: which multipart upload
// holds the bytes, the parts done with their ETags, the running SHA-256 at the end of the last
// part, how many bytes follow in the tail object, and the lease of the writer holding it.
//
// The hash state is OpenSSL's SHA256_CTX copied out as bytes: resuming needs the hash of the
// bytes stored so far, and the parts of an unfinished multipart upload cannot be read back.
// The bytes are the same on every x86-64/arm64 host (little-endian, same OpenSSL struct).

#include <openssl/sha.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/layerstore/core/blob_types.h"

namespace strata::layerstore {

struct S3Part {
  int number = 0;
  std::string etag;
  int64_t size = 0;
};

// SHA-256 whose state can be saved and restored.
class ResumableSha256 {
 public:
  ResumableSha256();
  void Update(const void* data, size_t size);
  // The digest of everything so far (the state is left as it is).
  Digest Finish() const;
  std::string Save() const;  // hex
  // Errors: DATA_LOSS (not what Save wrote).
  absl::Status Restore(const std::string& hex);

 private:
  SHA256_CTX context_;
};

struct S3UploadState {
  std::string ref;
  UploadExpectations expected;
  absl::Time started;
  // When bytes last reached storage.
  absl::Time updated;
  // The multipart upload holding the parts (empty until the first full part).
  std::string mpu_key;
  std::string upload_id;
  std::vector<S3Part> parts;
  int64_t parts_bytes = 0;
  // The hash after the last part's bytes (ResumableSha256::Save).
  std::string parts_hash;
  // Bytes after the parts, stored in the tail object.
  int64_t tail_size = 0;
  // The writer holding the upload, and until when (no holder: empty / past).
  std::string holder;
  absl::Time lease_until = absl::InfinitePast();

  int64_t offset() const { return parts_bytes + tail_size; }
};

std::string EncodeUploadState(const S3UploadState& state);
// Errors: DATA_LOSS (damaged).
absl::StatusOr<S3UploadState> DecodeUploadState(const std::string& text);

}  // namespace strata::layerstore

#endif  // STRATA_SERVICES_LAYERSTORE_CORE_S3_UPLOAD_STATE_H_
