#include "lib/distribution/registry_client.h"

#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "lib/base/errors.h"
#include "nlohmann/json.hpp"

namespace strata::distribution {
namespace {

// "https://host:5000/v2/x" -> "host:5000".
std::string HostOfUrl(absl::string_view url) {
  const size_t scheme = url.find("://");
  if (scheme != absl::string_view::npos) url = url.substr(scheme + 3);
  return std::string(url.substr(0, url.find_first_of("/?#")));
}

bool Retryable(long status) { return status == 429 || (status >= 500 && status != 501); }

bool IsRedirect(long status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

}  // namespace

std::string RegistryErrorText(const std::string& body) {
  nlohmann::json doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || !doc.contains("errors") || !doc["errors"].is_array()) return "";
  std::vector<std::string> parts;
  for (const nlohmann::json& error : doc["errors"]) {
    if (!error.is_object()) continue;
    std::string code = absl::AsciiStrToLower(error.value("code", "unknown"));
    absl::StrReplaceAll({{"_", " "}}, &code);
    std::string message = error.value("message", "");
    parts.push_back(message.empty() ? code : absl::StrCat(code, ": ", message));
  }
  return absl::StrJoin(parts, "; ");
}

RegistryClient::RegistryClient(std::string domain, RegistryOptions options,
                               std::optional<Credentials> credentials, http::HttpSession* session)
    : domain_(std::move(domain)),
      options_(std::move(options)),
      host_(ConfigureHost(domain_, options_.hosts)),
      session_(session),
      authorizer_(std::move(credentials), host_.tls, session) {}

absl::StatusOr<std::string> RegistryClient::BaseUrl() {
  absl::MutexLock lock(&mutex_);
  if (!base_url_.empty()) return base_url_;
  http::HttpClient client(session_);
  http::HttpRequest ping;
  ping.url = absl::StrCat("https://", host_.host, "/v2/");
  ping.tls = host_.tls;
  ping.timeout = absl::Seconds(30);
  ++requests_;
  absl::StatusOr<http::HttpResponse> response = client.Perform(ping);
  if (response.ok()) {
    base_url_ = absl::StrCat("https://", host_.host);
    return base_url_;
  }
  // An untrusted certificate is never a reason to fall back to plain HTTP.
  if (!host_.allow_http || absl::IsFailedPrecondition(response.status())) {
    return absl::Status(response.status().code(),
                        absl::StrCat("registry ", domain_, ": ", response.status().message()));
  }
  ping.url = absl::StrCat("http://", host_.host, "/v2/");
  ++requests_;
  absl::StatusOr<http::HttpResponse> plain = client.Perform(ping);
  if (!plain.ok()) {
    return absl::Status(plain.status().code(),
                        absl::StrCat("registry ", domain_, ": ", plain.status().message()));
  }
  if (plain->status == 400) {  // An HTTPS server, which HTTPS failed with.
    return absl::Status(response.status().code(),
                        absl::StrCat("registry ", domain_, ": ", response.status().message()));
  }
  base_url_ = absl::StrCat("http://", host_.host);
  return base_url_;
}

std::vector<std::string> RegistryClient::Scopes(const Target& target) const {
  std::vector<std::string> scopes;
  if (target.repository.empty()) return scopes;
  scopes.push_back(
      absl::StrCat("repository:", target.repository, target.push ? ":pull,push" : ":pull"));
  if (!target.mount_from.empty()) {
    scopes.push_back(absl::StrCat("repository:", target.mount_from, ":pull"));
  }
  return scopes;
}

std::string RegistryClient::Absolute(const std::string& base, const std::string& location) const {
  if (absl::StartsWith(location, "http://") || absl::StartsWith(location, "https://")) {
    return location;
  }
  const size_t scheme = base.find("://");
  const size_t path = base.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  const std::string origin = base.substr(0, path);
  if (absl::StartsWith(location, "/")) return origin + location;
  const std::string dir = base.substr(0, base.rfind('/') + 1);
  return dir + location;
}

absl::StatusOr<http::HttpResponse> RegistryClient::SendOnce(http::HttpRequest request,
                                                            const Target& target,
                                                            const http::BodyWriter& on_body) {
  http::HttpClient client(session_);
  const std::vector<std::string> scopes = Scopes(target);
  const std::vector<std::string> base_headers = request.headers;
  bool answered = false;
  for (int hop = 0; hop < 10; ++hop) {
    const bool registry_host = HostOfUrl(request.url) == host_.host;
    request.headers = base_headers;
    // Credentials and tokens go to the registry only: never to where it redirects.
    if (registry_host) {
      request.tls = host_.tls;
      std::string authorization = authorizer_.Cached(scopes);
      if (!authorization.empty()) {
        request.headers.push_back(absl::StrCat("Authorization: ", authorization));
      }
    } else {
      request.tls = http::TlsOptions{.verify = host_.tls.verify};
    }
    request.follow_redirects = false;
    ++requests_;
    ASSIGN_OR_RETURN(http::HttpResponse response, client.Perform(request, on_body));
    if (response.status == 401 && registry_host && !answered) {
      const std::string header = response.Header("www-authenticate");
      if (header.empty()) return response;
      ASSIGN_OR_RETURN(Challenge challenge, ParseChallenge(header));
      ASSIGN_OR_RETURN(std::string ignored, authorizer_.Answer(challenge, scopes));
      answered = true;
      if (request.body_reader) return response;  // A streamed body cannot be sent twice.
      continue;
    }
    if (IsRedirect(response.status) && !response.Header("location").empty()) {
      request.url = Absolute(request.url, response.Header("location"));
      if (response.status == 303) {
        request.method = "GET";
        request.body.clear();
      }
      continue;
    }
    return response;
  }
  return absl::UnavailableError(absl::StrCat("registry ", domain_, ": too many redirects for ",
                                             http::RedactUrl(request.url)));
}

absl::StatusOr<http::HttpResponse> RegistryClient::Send(http::HttpRequest request,
                                                        const Target& target,
                                                        const http::BodyWriter& on_body) {
  absl::Duration backoff = options_.first_backoff;
  for (int attempt = 1;; ++attempt) {
    int64_t delivered = 0;
    http::BodyWriter counting;
    if (on_body) {
      counting = [&](absl::string_view chunk) {
        delivered += chunk.size();
        return on_body(chunk);
      };
    }
    absl::StatusOr<http::HttpResponse> response = SendOnce(request, target, counting);
    const bool last =
        attempt >= options_.max_attempts || delivered > 0 || static_cast<bool>(request.body_reader);
    if (response.ok() && Retryable(response->status) && !last) {
      absl::Duration wait = backoff;
      int64_t seconds = 0;
      if (absl::SimpleAtoi(response->Header("retry-after"), &seconds)) {
        wait = std::min(absl::Seconds(seconds), absl::Seconds(30));
      }
      absl::SleepFor(wait);
      backoff *= 2;
      continue;
    }
    if (!response.ok() && absl::IsUnavailable(response.status()) && !last) {
      absl::SleepFor(backoff);
      backoff *= 2;
      continue;
    }
    return response;
  }
}

absl::Status RegistryClient::ResponseError(const http::HttpResponse& response,
                                           const std::string& what) const {
  std::string text = RegistryErrorText(response.body);
  const long status = response.status;
  switch (status) {
    case 401:
      return absl::UnauthenticatedError(
          absl::StrCat(what, ": ", text.empty() ? "unauthorized: authentication required" : text));
    case 403:
      return absl::PermissionDeniedError(absl::StrCat(
          what, ": ", text.empty() ? "denied: requested access to the resource is denied" : text));
    case 404:
      return absl::NotFoundError(absl::StrCat(what, ": ", text.empty() ? "not found" : text));
    default:
      break;
  }
  const std::string detail = absl::StrCat(what, ": registry ", domain_, " answered HTTP ", status,
                                          text.empty() ? "" : absl::StrCat(": ", text));
  if (Retryable(status)) return absl::UnavailableError(detail);
  if (status == 400) return absl::InvalidArgumentError(detail);
  return absl::FailedPreconditionError(detail);
}

absl::Status RegistryClient::CheckLogin() {
  ASSIGN_OR_RETURN(std::string base, BaseUrl());
  http::HttpRequest request;
  request.method = "GET";
  request.url = base + "/v2/";
  ASSIGN_OR_RETURN(http::HttpResponse response, Send(request, Target{}));
  if (response.status == 200) return absl::OkStatus();
  if (response.status == 401 && !authorizer_.has_credentials()) {
    return absl::UnauthenticatedError("unauthorized: authentication required");
  }
  if (response.status == 401) {
    return absl::UnauthenticatedError("unauthorized: incorrect username or password");
  }
  return ResponseError(response, absl::StrCat("login to ", domain_));
}

absl::StatusOr<oci::ManifestDocument> RegistryClient::GetManifest(
    const std::string& repository, const std::string& tag_or_digest) {
  ASSIGN_OR_RETURN(std::string base, BaseUrl());
  const bool by_digest = absl::StartsWith(tag_or_digest, "sha256:");
  const std::string what =
      absl::StrCat("manifest for ", domain_, "/", repository, by_digest ? "@" : ":", tag_or_digest);
  Digest expected;
  if (by_digest) {
    ASSIGN_OR_RETURN(expected, Digest::Parse(tag_or_digest));
  }
  http::HttpRequest request;
  request.method = "GET";
  request.url = absl::StrCat(base, "/v2/", repository, "/manifests/", tag_or_digest);
  std::vector<std::string> accepted;
  for (const char* const* type = oci::AcceptedManifestTypes(); *type != nullptr; ++type) {
    accepted.push_back(*type);
  }
  request.headers.push_back(absl::StrCat("Accept: ", absl::StrJoin(accepted, ", ")));
  request.timeout = absl::Minutes(2);
  absl::StatusOr<http::HttpResponse> response = Send(request, Target{repository});
  if (!response.ok()) {
    if (absl::IsResourceExhausted(response.status())) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": the manifest is larger than the 4 MiB limit"));
    }
    return response.status();
  }
  if (response->status == 404) {
    return absl::NotFoundError(absl::StrCat(what, " not found: ",
                                            RegistryErrorText(response->body).empty()
                                                ? "manifest unknown"
                                                : RegistryErrorText(response->body)));
  }
  if (response->status != 200) return ResponseError(*response, what);
  if (!by_digest) {
    absl::StatusOr<Digest> sent = Digest::Parse(response->Header("docker-content-digest"));
    if (sent.ok()) expected = *sent;
  }
  absl::StatusOr<oci::ManifestDocument> doc = oci::ParseManifestDocument(
      std::move(response->body), response->Header("content-type"), expected);
  if (!doc.ok()) {
    return absl::Status(doc.status().code(), absl::StrCat(what, ": ", doc.status().message()));
  }
  return doc;
}

absl::StatusOr<std::optional<int64_t>> RegistryClient::StatBlob(const std::string& repository,
                                                                const Digest& digest) {
  ASSIGN_OR_RETURN(std::string base, BaseUrl());
  http::HttpRequest request;
  request.method = "HEAD";
  request.url = absl::StrCat(base, "/v2/", repository, "/blobs/", digest.str());
  request.timeout = absl::Minutes(1);
  ASSIGN_OR_RETURN(http::HttpResponse response, Send(request, Target{repository}));
  if (response.status == 404) return std::optional<int64_t>();
  if (response.status != 200) {
    return ResponseError(response, absl::StrCat("blob ", digest.str()));
  }
  int64_t size = -1;
  if (!absl::SimpleAtoi(response.Header("content-length"), &size)) size = -1;
  return std::optional<int64_t>(size);
}

absl::Status RegistryClient::FetchBlob(const std::string& repository, const Digest& digest,
                                       int64_t size, layer::ByteSink* sink, int64_t offset) {
  ASSIGN_OR_RETURN(std::string base, BaseUrl());
  const std::string what = absl::StrCat("blob ", digest.str(), " of ", domain_, "/", repository);
  Sha256 hash;
  const bool verify = offset == 0;  // Else the caller checks the whole blob.
  int64_t written = offset;
  absl::Status last_error;
  for (int attempt = 1; attempt <= options_.max_attempts; ++attempt) {
    http::HttpRequest request;
    request.method = "GET";
    request.url = absl::StrCat(base, "/v2/", repository, "/blobs/", digest.str());
    if (written > 0) request.headers.push_back(absl::StrCat("Range: bytes=", written, "-"));
    int64_t skip = 0;  // Bytes a server that ignored Range sends again.
    // A 206 continues where the sink is; a 200 to a ranged request starts over.
    request.on_headers = [&](const http::HttpResponse& head) {
      skip = head.status == 200 ? written : 0;
    };
    auto on_body = [&](absl::string_view chunk) -> absl::Status {
      if (skip > 0) {
        const int64_t n = std::min<int64_t>(skip, chunk.size());
        chunk.remove_prefix(n);
        skip -= n;
        if (chunk.empty()) return absl::OkStatus();
      }
      if (size >= 0 && written + static_cast<int64_t>(chunk.size()) > size) {
        return absl::DataLossError(
            absl::StrCat(what, ": more bytes than the ", size, " the manifest names"));
      }
      if (verify) hash.Update(chunk);
      written += chunk.size();
      return sink->Write(chunk);
    };
    absl::StatusOr<http::HttpResponse> response = Send(request, Target{repository}, on_body);
    if (response.ok() && (response->status == 200 || response->status == 206)) {
      if (size >= 0 && written != size) {
        last_error = absl::UnavailableError(
            absl::StrCat(what, ": the connection ended after ", written, " of ", size, " bytes"));
        continue;
      }
      if (!verify) return absl::OkStatus();
      const Digest got = hash.Finish();
      if (got != digest) {
        return absl::DataLossError(absl::StrCat("filesystem layer verification failed for digest ",
                                                digest.str(), " (the registry sent ", got.str(),
                                                ")"));
      }
      return absl::OkStatus();
    }
    if (response.ok()) {
      if (response->status == 404) {
        return absl::NotFoundError(absl::StrCat(what, ": ",
                                                RegistryErrorText(response->body).empty()
                                                    ? "blob unknown: blob unknown to registry"
                                                    : RegistryErrorText(response->body)));
      }
      return ResponseError(*response, what);
    }
    if (!absl::IsUnavailable(response.status())) return response.status();
    last_error = response.status();
    absl::SleepFor(options_.first_backoff * attempt);
  }
  return last_error;
}

}  // namespace strata::distribution
