#ifndef STRATA_LIB_HTTP_HTTP_CLIENT_H_
#define STRATA_LIB_HTTP_HTTP_CLIENT_H_

// HTTP requests over libcurl, with every libcurl error caught here and turned into a Status.
// Used by the registry client (lib/distribution) and the S3 blob store: bodies stream in both
// directions (never whole in memory unless asked), connections and TLS sessions are reused
// across requests and threads through one HttpSession, HTTP/2 is used over TLS when the
// server offers it.
//
//   HttpSession session;                      // one per process (or per remote)
//   HttpClient client(&session);              // one per thread: holds a curl handle
//   HttpRequest request{.method = "GET", .url = "https://registry.example/v2/"};
//   ASSIGN_OR_RETURN(HttpResponse response,
//                    client.Perform(request, [&](absl::string_view chunk) {
//                      return sink->Write(chunk);  // streamed as it arrives
//                    }));
//
// Perform returns a response for every HTTP status (a 404 is a response, not an error);
// errors are for requests that got no complete response:
//   UNAVAILABLE        could not resolve, connect, send or receive; timed out; the server
//                      closed the connection mid-way (the caller may retry)
//   FAILED_PRECONDITION  TLS: the server's certificate was not trusted, a client certificate
//                      or CA file could not be used
//   INVALID_ARGUMENT   a malformed URL, an unsupported scheme
//   CANCELLED          the request's cancel flag was set
//   the body callbacks' own errors, as they returned them
// Messages name the method and the URL without its query (which may hold signatures) and
// never hold credentials.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace strata::http {

struct TlsOptions {
  // Verify the server's certificate and name (the default). Off only when the user asked.
  bool verify = true;
  // Extra CA bundle file to trust, besides the system's; empty for the system's alone.
  std::string ca_file;
  // PEM client certificate and key, for servers that ask for one.
  std::string cert_file;
  std::string key_file;
};

// Streams a request body: fills up to `size` bytes of `buffer`, returns how many (0 at the
// end). Errors end the request with that status.
using BodyReader = std::function<absl::StatusOr<size_t>(char* buffer, size_t size)>;
// Receives the response body as it arrives. Errors end the request with that status.
using BodyWriter = std::function<absl::Status(absl::string_view chunk)>;

struct HttpResponse;

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  // "Name: value" lines.
  std::vector<std::string> headers;
  // The body: `body` when body_reader is unset; otherwise body_reader with body_size bytes
  // (-1: unknown, sent chunked).
  std::string body;
  BodyReader body_reader;
  int64_t body_size = -1;
  // Follow redirects (to any host: the caller decides whether credentials may go along, so
  // never set this on a request that carries them).
  bool follow_redirects = false;
  TlsOptions tls;
  // Whole-request timeout; and the connection is dropped when fewer than
  // low_speed_bytes per second arrive for low_speed_time (a stalled server).
  absl::Duration timeout = absl::InfiniteDuration();
  absl::Duration connect_timeout = absl::Seconds(30);
  int64_t low_speed_bytes = 1;
  absl::Duration low_speed_time = absl::Seconds(60);
  // AWS Signature V4 ("aws:amz:REGION:s3") signed by libcurl with user:password as access
  // key id and secret key. Empty: no signing.
  std::string aws_sigv4;
  // "user:password" for HTTP Basic, or for aws_sigv4. Never logged.
  std::string user_password;
  // The same as two fields, for a user name that holds a colon (Swift's S3 access keys are
  // "account:user"). Used when username is set. Never logged.
  std::string username;
  std::string password;
  // Called when a response's status and headers have arrived, before its body (once per
  // response: a 100 Continue counts as one), e.g. to tell a 206 from a 200.
  std::function<void(const HttpResponse&)> on_headers;
  // Set from another thread to end the request (CANCELLED).
  const std::atomic<bool>* cancel = nullptr;
  // Responses with a status >= 300 (redirects not followed, errors) keep at most this much
  // body in HttpResponse::body instead of passing it to the BodyWriter.
  size_t max_error_body = 64 << 10;
};

struct HttpResponse {
  long status = 0;
  // Of the final response (after redirects): names lowercased, in arrival order.
  std::vector<std::pair<std::string, std::string>> headers;
  // The body when no BodyWriter was given (capped at max_body), or the body of a redirect or
  // error (status >= 300).
  std::string body;
  // The URL of the final response.
  std::string effective_url;
  // The first value of a header (name in any case), or "".
  std::string Header(absl::string_view name) const;
};

// Connection, DNS and TLS session caches shared by every HttpClient made from it. Thread-safe.
class HttpSession {
 public:
  HttpSession();
  ~HttpSession();
  HttpSession(const HttpSession&) = delete;
  HttpSession& operator=(const HttpSession&) = delete;

  void* share_handle() const { return share_; }

 private:
  static void Lock(void* handle, int data, int access, void* self);
  static void Unlock(void* handle, int data, void* self);

  void* share_;
  absl::Mutex mutexes_[8];
};

// One curl handle: use from one thread at a time. Keeps its connections alive between
// requests.
class HttpClient {
 public:
  // session may be null (nothing shared); not owned.
  explicit HttpClient(HttpSession* session = nullptr);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends request; the response body goes to on_body (when set and the status is < 300) or
  // into HttpResponse::body up to max_body bytes (RESOURCE_EXHAUSTED past it).
  absl::StatusOr<HttpResponse> Perform(const HttpRequest& request, const BodyWriter& on_body = {},
                                       size_t max_body = 4 << 20);

 private:
  void* curl_;
  HttpSession* session_;
};

// The URL without its query string and without user information, for messages.
std::string RedactUrl(absl::string_view url);

// Percent-encodes a string for a URL path segment or query value (RFC 3986 unreserved kept).
std::string UrlEncode(absl::string_view text);

}  // namespace strata::http

#endif  // STRATA_LIB_HTTP_HTTP_CLIENT_H_
