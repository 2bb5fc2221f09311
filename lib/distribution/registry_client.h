#ifndef STRATA_LIB_DISTRIBUTION_REGISTRY_CLIENT_H_
#define STRATA_LIB_DISTRIBUTION_REGISTRY_CLIENT_H_

// A client of one registry speaking the OCI distribution spec (docker registry API v2) over
// lib/http: manifests by tag or digest, blobs streamed through a digest check into a sink
// (resumed with Range after a dropped connection), blob existence, cross-repository mounts,
// chunked uploads with a monolithic fallback, manifest PUTs. Authentication answers the
// registry's challenges (see auth.h); redirects are followed by hand so that credentials
// never go to another host; 5xx, 429 and dropped connections are retried with backoff.
//
// Errors (messages in docker's words: "manifest unknown: manifest unknown",
// "unauthorized: authentication required", "denied: requested access to the resource is
// denied"):
//   UNAUTHENTICATED    401 after answering the challenge (no or wrong credentials)
//   PERMISSION_DENIED  403
//   NOT_FOUND          404: manifest unknown, blob unknown, name unknown
//   DATA_LOSS          a blob or manifest whose bytes do not have the digest asked for
//   UNAVAILABLE        unreachable, or 5xx / 429 / dropped connections past the retries
//   FAILED_PRECONDITION  TLS trouble (untrusted certificate, bad client certificate)
//   INVALID_ARGUMENT   documents Strata cannot read (schema 1, over 4 MiB, unknown types)
// Thread-safe: one client serves parallel layer transfers.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "lib/digest/digest.h"
#include "lib/distribution/auth.h"
#include "lib/distribution/credentials.h"
#include "lib/distribution/hosts.h"
#include "lib/http/http_client.h"
#include "lib/layer/stream.h"
#include "lib/oci/manifest_document.h"

namespace strata::distribution {

struct RegistryOptions {
  HostOptions hosts;
  // Attempts per request for 5xx, 429 and dropped connections.
  int max_attempts = 5;
  absl::Duration first_backoff = absl::Milliseconds(200);
  // Upload chunks of this many bytes (0: the whole blob in one streamed PATCH, as docker).
  int64_t upload_chunk_bytes = 0;
};

// Opens the blob to push at an offset (retries and resumed uploads start again there).
using BlobOpener =
    std::function<absl::StatusOr<std::unique_ptr<layer::ByteSource>>(int64_t offset)>;

class RegistryClient {
 public:
  // domain: as in a normalised reference ("docker.io", "localhost:5000"). credentials may
  // be nullopt (anonymous). session is shared, not owned; it must outlive the client.
  RegistryClient(std::string domain, RegistryOptions options,
                 std::optional<Credentials> credentials, http::HttpSession* session);

  const std::string& domain() const { return domain_; }

  // GET /v2/, answering a challenge with the credentials: what `login` checks.
  absl::Status CheckLogin();

  // The manifest or index by tag or digest, verified against the digest when asked by one
  // (and against Docker-Content-Digest when the registry sends it).
  absl::StatusOr<oci::ManifestDocument> GetManifest(const std::string& repository,
                                                    const std::string& tag_or_digest);

  // The blob's size when the registry has it in repository, nullopt when not.
  absl::StatusOr<std::optional<int64_t>> StatBlob(const std::string& repository,
                                                  const Digest& digest);

  // Streams the blob into sink (not closed), checking size and digest on the way; after a
  // dropped connection it asks for the rest with Range. On DATA_LOSS the sink has seen bad
  // bytes: the caller must discard what it wrote.
  // With offset > 0 the fetch starts there (Range), the sink holding the bytes before it (a
  // resumed download): the digest of the whole is then the caller's to check.
  absl::Status FetchBlob(const std::string& repository, const Digest& digest, int64_t size,
                         layer::ByteSink* sink, int64_t offset = 0);

  // Mounts a blob from another repository of this registry. False when the registry
  // declined (the caller uploads instead).
  absl::StatusOr<bool> MountBlob(const std::string& repository, const Digest& digest,
                                 const std::string& from_repository);

  // Uploads a blob: POST, PATCH (chunked, resumed after a dropped connection), PUT ?digest=;
  // a single PUT when the registry does not take PATCH.
  absl::Status PushBlob(const std::string& repository, const Digest& digest, int64_t size,
                        const BlobOpener& open);

  // Uploads a blob whose size and digest are known only once `source` has ended (a layer
  // being compressed on the way): POST, one streamed PATCH (chunked, no Content-Range), then
  // PUT ?digest= with what digest() says after the source ended. Not resumed: after an error
  // the caller pushes again with PushBlob from a stored copy. The source's own error is
  // returned as it is.
  absl::Status PushStreamedBlob(const std::string& repository, layer::ByteSource* source,
                                const std::function<absl::StatusOr<Digest>()>& digest);

  // PUT of a manifest under a tag or its digest; returns the digest the registry recorded.
  absl::StatusOr<Digest> PutManifest(const std::string& repository, const std::string& reference,
                                     const std::string& media_type, const std::string& bytes);

  // HTTP requests sent so far (tests count them).
  int64_t requests() const { return requests_.load(); }

 private:
  struct Target {
    std::string repository;
    bool push = false;
    std::string mount_from;  // Another repository the request reads from.
  };

  // scheme://host, decided on first use (HTTPS, or HTTP for an insecure registry that does
  // not answer HTTPS).
  absl::StatusOr<std::string> BaseUrl();
  std::vector<std::string> Scopes(const Target& target) const;
  // One request with authentication, hand-followed redirects and retries. When the body is
  // streamed (body_reader), it is not retried: reopen and call again.
  absl::StatusOr<http::HttpResponse> Send(http::HttpRequest request, const Target& target,
                                          const http::BodyWriter& on_body = {});
  absl::StatusOr<http::HttpResponse> SendOnce(http::HttpRequest request, const Target& target,
                                              const http::BodyWriter& on_body);
  // Turns a response that is not what was hoped for into a status. `what` names the thing.
  absl::Status ResponseError(const http::HttpResponse& response, const std::string& what) const;
  absl::StatusOr<std::string> StartUpload(const std::string& repository, std::string query,
                                          const Target& target, long* status);
  std::string Absolute(const std::string& base, const std::string& location) const;

  const std::string domain_;
  const RegistryOptions options_;
  const HostConfig host_;
  http::HttpSession* const session_;
  Authorizer authorizer_;

  mutable absl::Mutex mutex_;
  std::string base_url_ ABSL_GUARDED_BY(mutex_);
  std::atomic<int64_t> requests_{0};
};

// Registry error documents in docker's words: {"errors":[{"code":"MANIFEST_UNKNOWN",
// "message":"manifest unknown"}]} -> "manifest unknown: manifest unknown".
std::string RegistryErrorText(const std::string& body);

}  // namespace strata::distribution

#endif  // STRATA_LIB_DISTRIBUTION_REGISTRY_CLIENT_H_
