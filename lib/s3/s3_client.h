#ifndef STRATA_LIB_S3_S3_CLIENT_H_
#define STRATA_LIB_S3_S3_CLIENT_H_

// A small client of the S3 API, for the layerstore's object-storage backend: object GET (ranged,
// streamed), PUT, HEAD, DELETE, server-side copy, multipart uploads, ListObjectsV2 and
// ListMultipartUploads of one bucket. Requests are signed with AWS Signature V4 by libcurl
// (CURLOPT_AWS_SIGV4, through lib/http), never by crypto of our own. Payloads are sent as
// UNSIGNED-PAYLOAD (TLS protects them on the wire; the layerstore verifies digests itself).
//
// Requests that fail with HTTP 500/502/503/504 or without a response (connection refused or
// reset, a timeout) are retried with exponential backoff, max_attempts in all. Other answers are
// turned into a Status once, here:
//   NOT_FOUND            404 (no such key, upload or bucket)
//   UNAUTHENTICATED      403 for a bad access key or signature
//   PERMISSION_DENIED    other 403s
//   FAILED_PRECONDITION  412 (an If-Match that did not hold), 409
//   OUT_OF_RANGE         416
//   UNAVAILABLE          5xx or no response after the retries
//   INTERNAL             any other status (the message holds S3's code and message)
// Messages name the method, bucket and key and S3's error code; never credentials.
// Thread-safe: curl handles are pooled, connections shared.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "lib/http/http_client.h"

namespace strata::s3 {

struct S3Credentials {
  std::string access_key_id;
  std::string secret_access_key;
};

// Credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, or from `file` when it is not
// empty: an AWS-style credentials file ("[default]" section, aws_access_key_id and
// aws_secret_access_key lines; the first section when there is no [default]).
// Errors: INVALID_ARGUMENT (nothing found, an incomplete file), NOT_FOUND / PERMISSION_DENIED
// (the file cannot be read).
absl::StatusOr<S3Credentials> LoadCredentials(const std::string& file);

struct S3Config {
  // http(s)://host[:port], without a path.
  std::string endpoint;
  std::string region = "us-east-1";
  std::string bucket;
  // Virtual-host addressing (https://bucket.host/key) instead of path style (host/bucket/key).
  bool virtual_host = false;
  S3Credentials credentials;
  // Extra CA bundle for TLS (besides the system's).
  std::string ca_file;
  int max_attempts = 6;
  absl::Duration initial_backoff = absl::Milliseconds(50);
};

struct ObjectInfo {
  std::string key;
  int64_t size = 0;
  std::string etag;  // without quotes
  absl::Time last_modified;
};

struct ObjectPage {
  std::vector<ObjectInfo> objects;
  // Set when more follow: pass it to the next ListObjects.
  std::optional<std::string> continuation;
};

struct MultipartUploadInfo {
  std::string key;
  std::string upload_id;
  absl::Time initiated;
};

struct CompletedPart {
  int number = 0;
  std::string etag;
};

class S3Client {
 public:
  // Errors: INVALID_ARGUMENT (no endpoint or bucket, an endpoint that is not http(s)).
  static absl::StatusOr<std::unique_ptr<S3Client>> Create(S3Config config);

  const S3Config& config() const { return config_; }

  // HEAD of the bucket: checks that it exists and that the credentials may use it.
  absl::Status CheckBucket();

  absl::StatusOr<ObjectInfo> Head(const std::string& key);
  // The whole (small) object in memory, at most max_size bytes (RESOURCE_EXHAUSTED past it).
  absl::StatusOr<std::string> GetSmall(const std::string& key, size_t max_size = 16 << 20);
  // Streams `length` bytes from `offset` (length < 0: to the end) to on_body. With if_match
  // set, the object must still have that ETag (FAILED_PRECONDITION otherwise). Not retried
  // once bytes went to on_body: the caller resumes from where they stopped.
  absl::Status Get(const std::string& key, int64_t offset, int64_t length,
                   const std::string& if_match, const http::BodyWriter& on_body,
                   const std::atomic<bool>* cancel = nullptr);
  absl::Status Put(const std::string& key, std::string body);
  // Deleting a missing key is not an error (as in S3).
  absl::Status Delete(const std::string& key);
  // Server-side copy (one request: up to 5 GiB on S3 and Swift).
  absl::Status Copy(const std::string& from_key, const std::string& to_key);

  absl::StatusOr<std::string> CreateMultipartUpload(const std::string& key);
  // Returns the part's ETag.
  absl::StatusOr<std::string> UploadPart(const std::string& key, const std::string& upload_id,
                                         int part_number, const std::string& body);
  absl::Status CompleteMultipartUpload(const std::string& key, const std::string& upload_id,
                                       const std::vector<CompletedPart>& parts);
  // Aborting an upload that is gone already is not an error.
  absl::Status AbortMultipartUpload(const std::string& key, const std::string& upload_id);

  // Objects under prefix in key order, after start_after (when not empty), at most max_keys.
  absl::StatusOr<ObjectPage> ListObjects(const std::string& prefix, const std::string& start_after,
                                         int max_keys,
                                         const std::optional<std::string>& continuation);
  // Every multipart upload in progress under prefix.
  absl::StatusOr<std::vector<MultipartUploadInfo>> ListMultipartUploads(const std::string& prefix);

 private:
  struct Call {
    std::string method;
    std::string key;  // empty: the bucket
    std::vector<std::pair<std::string, std::string>> query;
    std::vector<std::string> headers;
    std::string body;
    bool has_body = false;
  };

  explicit S3Client(S3Config config);

  std::string Url(const Call& call) const;
  // Sends with retries; the response of any status when it is not retryable (or retries ran
  // out on a 5xx: then the last response). on_body receives a 2xx body.
  absl::StatusOr<http::HttpResponse> Send(const Call& call, const http::BodyWriter& on_body = {},
                                          const std::atomic<bool>* cancel = nullptr,
                                          size_t max_body = 16 << 20);
  // Send, then an error Status for any status >= 300.
  absl::StatusOr<http::HttpResponse> SendOk(const Call& call, const http::BodyWriter& on_body = {},
                                            const std::atomic<bool>* cancel = nullptr,
                                            size_t max_body = 16 << 20);
  std::unique_ptr<http::HttpClient> Acquire();
  void Release(std::unique_ptr<http::HttpClient> client);

  const S3Config config_;
  std::string sigv4_;
  http::HttpSession session_;
  absl::Mutex mutex_;
  std::vector<std::unique_ptr<http::HttpClient>> idle_ ABSL_GUARDED_BY(mutex_);
};

// The error Status for an S3 response (status >= 300) to `what` ("GET bucket/key").
absl::Status S3Error(const http::HttpResponse& response, absl::string_view what);

// Inner texts of every <tag>...</tag> in xml (not nested in itself), entities decoded.
std::vector<std::string> XmlElements(absl::string_view xml, absl::string_view tag);
// The first one, or "".
std::string XmlElement(absl::string_view xml, absl::string_view tag);

}  // namespace strata::s3

#endif  // STRATA_LIB_S3_S3_CLIENT_H_
