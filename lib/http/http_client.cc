#include "lib/http/http_client.h"

#include <curl/curl.h>

#include <cstring>
#include <mutex>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace strata::http {
namespace {

// curl_global_init is not thread-safe: once per process, before any handle.
void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// What one Perform call's callbacks share.
struct Transfer {
  CURL* curl = nullptr;
  const HttpRequest* request = nullptr;
  const BodyWriter* on_body = nullptr;
  size_t max_body = 0;
  HttpResponse* response = nullptr;
  // The first error a callback hit: Perform returns it instead of curl's code.
  absl::Status callback_error;
  size_t body_offset = 0;
};

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  absl::string_view line(data, size * count);
  line = absl::StripTrailingAsciiWhitespace(line);
  if (absl::StartsWith(line, "HTTP/")) {
    // A new response (after a redirect or a 100 Continue): only the last one's headers count.
    transfer->response->headers.clear();
    return size * count;
  }
  if (line.empty()) {
    // The end of a header block: tell the caller what the body will be.
    if (transfer->request->on_headers) {
      curl_easy_getinfo(transfer->curl, CURLINFO_RESPONSE_CODE, &transfer->response->status);
      transfer->request->on_headers(*transfer->response);
    }
    return size * count;
  }
  const size_t colon = line.find(':');
  if (colon != absl::string_view::npos) {
    transfer->response->headers.emplace_back(
        absl::AsciiStrToLower(line.substr(0, colon)),
        std::string(absl::StripAsciiWhitespace(line.substr(colon + 1))));
  }
  return size * count;
}

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const size_t length = size * count;
  long status = 0;
  curl_easy_getinfo(transfer->curl, CURLINFO_RESPONSE_CODE, &status);
  HttpResponse& response = *transfer->response;
  // A redirect's or an error's body is never content: it stays in response.body.
  const bool not_content = status >= 300;
  if (not_content || !*transfer->on_body) {
    const size_t cap = not_content ? transfer->request->max_error_body : transfer->max_body;
    if (response.body.size() + length > cap) {
      if (not_content) {
        // An error document is only for the message: keep its start.
        response.body.append(data, cap - std::min(cap, response.body.size()));
        return length;
      }
      transfer->callback_error =
          absl::ResourceExhaustedError(absl::StrCat("the response is larger than ", cap, " bytes"));
      return 0;
    }
    response.body.append(data, length);
    return length;
  }
  absl::Status written = (*transfer->on_body)(absl::string_view(data, length));
  if (!written.ok()) {
    transfer->callback_error = written;
    return 0;
  }
  return length;
}

size_t OnRead(char* buffer, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const HttpRequest& request = *transfer->request;
  const size_t room = size * count;
  if (request.body_reader) {
    absl::StatusOr<size_t> got = request.body_reader(buffer, room);
    if (!got.ok()) {
      transfer->callback_error = got.status();
      return CURL_READFUNC_ABORT;
    }
    return *got;
  }
  const size_t left = request.body.size() - transfer->body_offset;
  const size_t n = std::min(left, room);
  std::memcpy(buffer, request.body.data() + transfer->body_offset, n);
  transfer->body_offset += n;
  return n;
}

// Rewinds the request body when curl must send it again (a redirect, an auth retry).
int OnSeek(void* user, curl_off_t offset, int origin) {
  auto* transfer = static_cast<Transfer*>(user);
  if (transfer->request->body_reader || origin != SEEK_SET || offset < 0 ||
      static_cast<size_t>(offset) > transfer->request->body.size()) {
    return CURL_SEEKFUNC_CANTSEEK;
  }
  transfer->body_offset = static_cast<size_t>(offset);
  return CURL_SEEKFUNC_OK;
}

int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* transfer = static_cast<Transfer*>(user);
  const std::atomic<bool>* cancel = transfer->request->cancel;
  return cancel != nullptr && cancel->load() ? 1 : 0;
}

absl::Status CurlError(CURLcode code, const char* detail, const HttpRequest& request) {
  const std::string what = absl::StrCat(request.method, " ", RedactUrl(request.url), ": ",
                                        detail[0] != '\0' ? detail : curl_easy_strerror(code));
  switch (code) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
      return absl::InvalidArgumentError(what);
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_CRL_BADFILE:
      return absl::FailedPreconditionError(absl::StrCat("TLS: ", what));
    case CURLE_ABORTED_BY_CALLBACK:
      return absl::CancelledError(what);
    default:
      // Resolve, connect, send, receive, timeouts, a connection closed mid-way, TLS
      // handshakes cut short: the network's doing, worth a retry.
      return absl::UnavailableError(what);
  }
}

}  // namespace

std::string HttpResponse::Header(absl::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (absl::EqualsIgnoreCase(key, name)) return value;
  }
  return "";
}

HttpSession::HttpSession() {
  GlobalInit();
  CURLSH* share = curl_share_init();
  curl_share_setopt(share, CURLSHOPT_LOCKFUNC, &HttpSession::Lock);
  curl_share_setopt(share, CURLSHOPT_UNLOCKFUNC, &HttpSession::Unlock);
  curl_share_setopt(share, CURLSHOPT_USERDATA, this);
  curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
  share_ = share;
}

HttpSession::~HttpSession() { curl_share_cleanup(static_cast<CURLSH*>(share_)); }

void HttpSession::Lock(void*, int data, int, void* self) {
  static_cast<HttpSession*>(self)->mutexes_[data % 8].Lock();
}

void HttpSession::Unlock(void*, int data, void* self) {
  static_cast<HttpSession*>(self)->mutexes_[data % 8].Unlock();
}

HttpClient::HttpClient(HttpSession* session) : session_(session) {
  GlobalInit();
  curl_ = curl_easy_init();
}

HttpClient::~HttpClient() { curl_easy_cleanup(static_cast<CURL*>(curl_)); }

absl::StatusOr<HttpResponse> HttpClient::Perform(const HttpRequest& request,
                                                 const BodyWriter& on_body, size_t max_body) {
  CURL* curl = static_cast<CURL*>(curl_);
  if (curl == nullptr) return absl::InternalError("libcurl could not create a handle");
  curl_easy_reset(curl);
  HttpResponse response;
  Transfer transfer{curl, &request, &on_body, max_body, &response, absl::OkStatus(), 0};
  char error[CURL_ERROR_SIZE] = {0};

  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  if (session_ != nullptr) curl_easy_setopt(curl, CURLOPT_SHARE, session_->share_handle());
  curl_easy_setopt(curl, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_2TLS);
  // Bodies are passed through as stored: a registry's gzip layer must not be unpacked here.
  curl_easy_setopt(curl, CURLOPT_HTTP_CONTENT_DECODING, 0L);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, &OnProgress);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, request.cancel != nullptr ? 0L : 1L);
  curl_easy_setopt(curl, CURLOPT_BUFFERSIZE, 512L << 10);
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, request.follow_redirects ? 1L : 0L);
  curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(request.connect_timeout)));
  if (request.timeout != absl::InfiniteDuration()) {
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS,
                     static_cast<long>(absl::ToInt64Milliseconds(request.timeout)));
  }
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, static_cast<long>(request.low_speed_bytes));
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME,
                   static_cast<long>(absl::ToInt64Seconds(request.low_speed_time)));

  // TLS: the system's CAs, plus the extra bundle when given.
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, request.tls.verify ? 1L : 0L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, request.tls.verify ? 2L : 0L);
  if (!request.tls.ca_file.empty()) {
    curl_easy_setopt(curl, CURLOPT_CAINFO, request.tls.ca_file.c_str());
    curl_easy_setopt(curl, CURLOPT_CAPATH, "/etc/ssl/certs");
  }
  if (!request.tls.cert_file.empty()) {
    curl_easy_setopt(curl, CURLOPT_SSLCERT, request.tls.cert_file.c_str());
    curl_easy_setopt(curl, CURLOPT_SSLKEY, request.tls.key_file.c_str());
  }

  if (!request.user_password.empty()) {
    curl_easy_setopt(curl, CURLOPT_USERPWD, request.user_password.c_str());
    if (request.aws_sigv4.empty()) curl_easy_setopt(curl, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
  }
  if (!request.username.empty()) {
    curl_easy_setopt(curl, CURLOPT_USERNAME, request.username.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, request.password.c_str());
    if (request.aws_sigv4.empty()) curl_easy_setopt(curl, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
  }
  if (!request.aws_sigv4.empty()) {
    curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, request.aws_sigv4.c_str());
  }

  const bool has_body = request.body_reader || !request.body.empty();
  if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (request.method == "GET") {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  } else {
    if (has_body || request.method == "PUT" || request.method == "POST" ||
        request.method == "PATCH") {
      const curl_off_t size = request.body_reader ? static_cast<curl_off_t>(request.body_size)
                                                  : static_cast<curl_off_t>(request.body.size());
      curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
      curl_easy_setopt(curl, CURLOPT_READFUNCTION, &OnRead);
      curl_easy_setopt(curl, CURLOPT_READDATA, &transfer);
      curl_easy_setopt(curl, CURLOPT_SEEKFUNCTION, &OnSeek);
      curl_easy_setopt(curl, CURLOPT_SEEKDATA, &transfer);
      curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, size);
    }
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }

  struct curl_slist* headers = nullptr;
  for (const std::string& header : request.headers) {
    headers = curl_slist_append(headers, header.c_str());
  }
  // An upload waits for no "100 Continue": registries and S3 answer the request as sent.
  // Not for SigV4: libcurl would sign the empty "Expect:" as a header the server never sees.
  if (has_body && request.aws_sigv4.empty()) headers = curl_slist_append(headers, "Expect:");
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);

  const CURLcode code = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  if (!transfer.callback_error.ok()) return transfer.callback_error;
  if (code != CURLE_OK) return CurlError(code, error, request);

  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  char* effective = nullptr;
  curl_easy_getinfo(curl, CURLINFO_EFFECTIVE_URL, &effective);
  if (effective != nullptr) response.effective_url = effective;
  return response;
}

std::string RedactUrl(absl::string_view url) {
  url = url.substr(0, url.find_first_of("?#"));
  const size_t scheme = url.find("://");
  if (scheme == absl::string_view::npos) return std::string(url);
  const size_t host_start = scheme + 3;
  const size_t path = url.find('/', host_start);
  const size_t at = url.substr(0, path).rfind('@');
  if (at == absl::string_view::npos || at < host_start) return std::string(url);
  return absl::StrCat(url.substr(0, host_start), url.substr(at + 1));
}

std::string UrlEncode(absl::string_view text) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

}  // namespace strata::http
