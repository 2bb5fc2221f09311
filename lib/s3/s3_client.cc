#include "lib/s3/s3_client.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"

namespace strata::s3 {
namespace {

// A key in a URL path: every byte but unreserved ones and '/' percent-encoded, as SigV4's
// canonical URI has it (so that what libcurl signs is what the server checks).
std::string EncodeKey(absl::string_view key) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : key) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '/') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

bool Retryable(const absl::Status& status) { return absl::IsUnavailable(status); }
bool Retryable(long status) {
  return status == 500 || status == 502 || status == 503 || status == 504;
}

absl::Time ParseHttpDate(absl::string_view text) {
  absl::Time time;
  std::string error;
  if (absl::ParseTime("%a, %d %b %Y %H:%M:%S GMT", text, &time, &error)) return time;
  return absl::UnixEpoch();
}

absl::Time ParseIsoTime(absl::string_view text) {
  absl::Time time;
  std::string error;
  if (absl::ParseTime("%Y-%m-%dT%H:%M:%E*SZ", text, &time, &error)) return time;
  return absl::UnixEpoch();
}

std::string Unquote(absl::string_view etag) {
  absl::ConsumePrefix(&etag, "\"");
  absl::ConsumeSuffix(&etag, "\"");
  return std::string(etag);
}

std::string XmlEscape(absl::string_view text) {
  return absl::StrReplaceAll(
      text, {{"&", "&amp;"}, {"<", "&lt;"}, {">", "&gt;"}, {"\"", "&quot;"}, {"'", "&apos;"}});
}

}  // namespace

std::vector<std::string> XmlElements(absl::string_view xml, absl::string_view tag) {
  std::vector<std::string> out;
  const std::string open = absl::StrCat("<", tag, ">");
  const std::string close = absl::StrCat("</", tag, ">");
  size_t at = 0;
  for (;;) {
    const size_t start = xml.find(open, at);
    if (start == absl::string_view::npos) break;
    const size_t end = xml.find(close, start + open.size());
    if (end == absl::string_view::npos) break;
    out.push_back(absl::StrReplaceAll(
        xml.substr(start + open.size(), end - start - open.size()),
        {{"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&apos;", "'"}, {"&amp;", "&"}}));
    at = end + close.size();
  }
  return out;
}

std::string XmlElement(absl::string_view xml, absl::string_view tag) {
  std::vector<std::string> all = XmlElements(xml, tag);
  return all.empty() ? std::string() : all.front();
}

absl::StatusOr<S3Credentials> LoadCredentials(const std::string& file) {
  S3Credentials credentials;
  if (file.empty()) {
    const char* id = std::getenv("AWS_ACCESS_KEY_ID");
    const char* secret = std::getenv("AWS_SECRET_ACCESS_KEY");
    if (id == nullptr || secret == nullptr || *id == '\0') {
      return absl::InvalidArgumentError(
          "no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or give a "
          "credentials file");
    }
    return S3Credentials{id, secret};
  }
  std::ifstream in(file);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("S3 credentials file ", file, ": cannot be read"));
  }
  std::string line;
  std::string section;
  bool chosen_done = false;
  std::string chosen;
  while (std::getline(in, line)) {
    absl::string_view text = absl::StripAsciiWhitespace(line);
    if (text.empty() || text[0] == '#' || text[0] == ';') continue;
    if (text.front() == '[' && text.back() == ']') {
      section = std::string(text.substr(1, text.size() - 2));
      if (!credentials.access_key_id.empty() && !chosen_done) chosen_done = true;
      continue;
    }
    if (chosen_done && section != "default") continue;
    const size_t eq = text.find('=');
    if (eq == absl::string_view::npos) continue;
    const std::string name(absl::StripAsciiWhitespace(text.substr(0, eq)));
    const std::string value(absl::StripAsciiWhitespace(text.substr(eq + 1)));
    if (!chosen.empty() && section != chosen && section != "default") continue;
    if (chosen.empty()) chosen = section;
    if (section == "default" && chosen != "default") {
      chosen = "default";
      credentials = S3Credentials();
    }
    if (name == "aws_access_key_id") credentials.access_key_id = value;
    if (name == "aws_secret_access_key") credentials.secret_access_key = value;
  }
  if (credentials.access_key_id.empty() || credentials.secret_access_key.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "S3 credentials file ", file, ": needs aws_access_key_id and aws_secret_access_key"));
  }
  return credentials;
}

absl::Status S3Error(const http::HttpResponse& response, absl::string_view what) {
  const std::string code = XmlElement(response.body, "Code");
  const std::string message = XmlElement(response.body, "Message");
  const std::string detail = absl::StrCat(what, ": HTTP ", response.status, code.empty() ? "" : " ",
                                          code, message.empty() ? "" : ": ", message);
  switch (response.status) {
    case 404:
      return absl::NotFoundError(detail);
    case 401:
      return absl::UnauthenticatedError(detail);
    case 403:
      if (code == "InvalidAccessKeyId" || code == "SignatureDoesNotMatch" ||
          code == "AccessDenied" || code.empty()) {
        return absl::UnauthenticatedError(
            absl::StrCat(detail, " (check the S3 access key and secret key)"));
      }
      return absl::PermissionDeniedError(detail);
    case 409:
    case 412:
      return absl::FailedPreconditionError(detail);
    case 416:
      return absl::OutOfRangeError(detail);
    default:
      if (response.status >= 500) return absl::UnavailableError(detail);
      return absl::InternalError(detail);
  }
}

S3Client::S3Client(S3Config config) : config_(std::move(config)) {
  sigv4_ = absl::StrCat("aws:amz:", config_.region, ":s3");
}

absl::StatusOr<std::unique_ptr<S3Client>> S3Client::Create(S3Config config) {
  if (config.bucket.empty()) return absl::InvalidArgumentError("S3: no bucket given");
  if (!absl::StartsWith(config.endpoint, "http://") &&
      !absl::StartsWith(config.endpoint, "https://")) {
    return absl::InvalidArgumentError(
        absl::StrCat("S3 endpoint \"", config.endpoint, "\": must start with http:// or https://"));
  }
  while (absl::EndsWith(config.endpoint, "/")) config.endpoint.pop_back();
  if (config.max_attempts < 1) config.max_attempts = 1;
  return std::unique_ptr<S3Client>(new S3Client(std::move(config)));
}

std::string S3Client::Url(const Call& call) const {
  std::string base;
  if (config_.virtual_host) {
    const size_t scheme_end = config_.endpoint.find("://") + 3;
    base = absl::StrCat(config_.endpoint.substr(0, scheme_end), config_.bucket, ".",
                        config_.endpoint.substr(scheme_end), "/");
  } else {
    base = absl::StrCat(config_.endpoint, "/", config_.bucket, call.key.empty() ? "" : "/");
  }
  std::string url = absl::StrCat(base, EncodeKey(call.key));
  if (!call.query.empty()) {
    // Sorted and encoded as SigV4's canonical query string, every name with "=": libcurl
    // signs the query as it is written.
    std::vector<std::pair<std::string, std::string>> query = call.query;
    std::sort(query.begin(), query.end());
    std::vector<std::string> parts;
    for (const auto& [name, value] : query) {
      parts.push_back(absl::StrCat(http::UrlEncode(name), "=", http::UrlEncode(value)));
    }
    absl::StrAppend(&url, "?", absl::StrJoin(parts, "&"));
  }
  return url;
}

std::unique_ptr<http::HttpClient> S3Client::Acquire() {
  {
    absl::MutexLock lock(&mutex_);
    if (!idle_.empty()) {
      std::unique_ptr<http::HttpClient> client = std::move(idle_.back());
      idle_.pop_back();
      return client;
    }
  }
  return std::make_unique<http::HttpClient>(&session_);
}

void S3Client::Release(std::unique_ptr<http::HttpClient> client) {
  absl::MutexLock lock(&mutex_);
  if (idle_.size() < 32) idle_.push_back(std::move(client));
}

absl::StatusOr<http::HttpResponse> S3Client::Send(const Call& call, const http::BodyWriter& on_body,
                                                  const std::atomic<bool>* cancel,
                                                  size_t max_body) {
  http::HttpRequest request;
  request.method = call.method;
  request.url = Url(call);
  request.headers = call.headers;
  request.headers.push_back("x-amz-content-sha256: UNSIGNED-PAYLOAD");
  request.body = call.body;
  if (call.has_body && call.body.empty()) {
    // An empty body still has to be sent as one (Content-Length: 0).
    request.body_reader = [](char*, size_t) -> absl::StatusOr<size_t> { return 0; };
    request.body_size = 0;
  }
  request.aws_sigv4 = sigv4_;
  request.username = config_.credentials.access_key_id;
  request.password = config_.credentials.secret_access_key;
  request.tls.ca_file = config_.ca_file;
  request.connect_timeout = absl::Seconds(10);
  request.low_speed_time = absl::Seconds(30);
  request.cancel = cancel;
  int64_t delivered = 0;
  http::BodyWriter counting;
  if (on_body) {
    counting = [&](absl::string_view chunk) {
      delivered += static_cast<int64_t>(chunk.size());
      return on_body(chunk);
    };
  }
  absl::Duration backoff = config_.initial_backoff;
  absl::StatusOr<http::HttpResponse> response;
  for (int attempt = 1;; ++attempt) {
    std::unique_ptr<http::HttpClient> client = Acquire();
    response = client->Perform(request, counting, max_body);
    Release(std::move(client));
    const bool retry = (response.ok() ? Retryable(response->status) : Retryable(response.status()));
    if (!retry || attempt >= config_.max_attempts || delivered > 0) break;
    if (cancel != nullptr && cancel->load()) break;
    absl::SleepFor(backoff);
    backoff = std::min(backoff * 2, absl::Seconds(2));
  }
  return response;
}

absl::StatusOr<http::HttpResponse> S3Client::SendOk(const Call& call,
                                                    const http::BodyWriter& on_body,
                                                    const std::atomic<bool>* cancel,
                                                    size_t max_body) {
  const std::string what = absl::StrCat(call.method, " s3://", config_.bucket, "/", call.key);
  absl::StatusOr<http::HttpResponse> response = Send(call, on_body, cancel, max_body);
  if (!response.ok()) {
    return absl::Status(response.status().code(),
                        absl::StrCat(what, ": ", response.status().message()));
  }
  if (response->status >= 300) return S3Error(*response, what);
  return response;
}

absl::Status S3Client::CheckBucket() {
  Call call{.method = "HEAD"};
  absl::StatusOr<http::HttpResponse> response = SendOk(call);
  if (absl::IsNotFound(response.status())) {
    return absl::NotFoundError(
        absl::StrCat("S3 bucket \"", config_.bucket, "\" at ", config_.endpoint, ": not found"));
  }
  if (!response.ok()) {
    return absl::Status(response.status().code(),
                        absl::StrCat("S3 bucket \"", config_.bucket, "\" at ", config_.endpoint,
                                     ": ", response.status().message()));
  }
  return absl::OkStatus();
}

absl::StatusOr<ObjectInfo> S3Client::Head(const std::string& key) {
  Call call{.method = "HEAD", .key = key};
  absl::StatusOr<http::HttpResponse> response = SendOk(call);
  if (!response.ok()) return response.status();
  ObjectInfo info;
  info.key = key;
  if (!absl::SimpleAtoi(response->Header("content-length"), &info.size)) {
    return absl::InternalError(absl::StrCat("HEAD ", key, ": no Content-Length"));
  }
  info.etag = Unquote(response->Header("etag"));
  info.last_modified = ParseHttpDate(response->Header("last-modified"));
  return info;
}

absl::StatusOr<std::string> S3Client::GetSmall(const std::string& key, size_t max_size) {
  Call call{.method = "GET", .key = key};
  std::string body;
  absl::StatusOr<http::HttpResponse> response = SendOk(call, {}, nullptr, max_size);
  if (!response.ok()) return response.status();
  return std::move(response->body);
}

absl::Status S3Client::Get(const std::string& key, int64_t offset, int64_t length,
                           const std::string& if_match, const http::BodyWriter& on_body,
                           const std::atomic<bool>* cancel) {
  Call call{.method = "GET", .key = key};
  if (offset > 0 || length >= 0) {
    call.headers.push_back(length >= 0
                               ? absl::StrCat("Range: bytes=", offset, "-", offset + length - 1)
                               : absl::StrCat("Range: bytes=", offset, "-"));
  }
  if (!if_match.empty()) call.headers.push_back(absl::StrCat("If-Match: \"", if_match, "\""));
  return SendOk(call, on_body, cancel).status();
}

absl::Status S3Client::Put(const std::string& key, std::string body) {
  Call call{.method = "PUT", .key = key, .body = std::move(body), .has_body = true};
  return SendOk(call).status();
}

absl::Status S3Client::Delete(const std::string& key) {
  Call call{.method = "DELETE", .key = key};
  absl::Status status = SendOk(call).status();
  if (absl::IsNotFound(status)) return absl::OkStatus();
  return status;
}

absl::Status S3Client::Copy(const std::string& from_key, const std::string& to_key) {
  Call call{.method = "PUT", .key = to_key, .has_body = true};
  call.headers.push_back(
      absl::StrCat("x-amz-copy-source: /", config_.bucket, "/", EncodeKey(from_key)));
  absl::StatusOr<http::HttpResponse> response = SendOk(call);
  if (!response.ok()) return response.status();
  // S3 may report a failed copy in a 200's body.
  if (absl::StrContains(response->body, "<Error>"))
    return S3Error(http::HttpResponse{.status = 500, .body = response->body},
                   absl::StrCat("COPY ", from_key, " to ", to_key));
  return absl::OkStatus();
}

absl::StatusOr<std::string> S3Client::CreateMultipartUpload(const std::string& key) {
  Call call{.method = "POST", .key = key, .query = {{"uploads", ""}}, .has_body = true};
  absl::StatusOr<http::HttpResponse> response = SendOk(call);
  if (!response.ok()) return response.status();
  std::string id = XmlElement(response->body, "UploadId");
  if (id.empty()) return absl::InternalError(absl::StrCat("POST ", key, "?uploads: no UploadId"));
  return id;
}

absl::StatusOr<std::string> S3Client::UploadPart(const std::string& key,
                                                 const std::string& upload_id, int part_number,
                                                 const std::string& body) {
  Call call{.method = "PUT",
            .key = key,
            .query = {{"partNumber", absl::StrCat(part_number)}, {"uploadId", upload_id}},
            .body = body,
            .has_body = true};
  absl::StatusOr<http::HttpResponse> response = SendOk(call);
  if (!response.ok()) return response.status();
  std::string etag = Unquote(response->Header("etag"));
  if (etag.empty()) return absl::InternalError(absl::StrCat("upload part of ", key, ": no ETag"));
  return etag;
}

absl::Status S3Client::CompleteMultipartUpload(const std::string& key, const std::string& upload_id,
                                               const std::vector<CompletedPart>& parts) {
  std::string xml = "<CompleteMultipartUpload>";
  for (const CompletedPart& part : parts) {
    absl::StrAppend(&xml, "<Part><PartNumber>", part.number, "</PartNumber><ETag>\"",
                    XmlEscape(part.etag), "\"</ETag></Part>");
  }
  xml += "</CompleteMultipartUpload>";
  Call call{.method = "POST",
            .key = key,
            .query = {{"uploadId", upload_id}},
            .body = std::move(xml),
            .has_body = true};
  absl::StatusOr<http::HttpResponse> response = SendOk(call);
  if (!response.ok()) return response.status();
  // A 200 whose body is an error: the completion failed (S3 reports late errors this way).
  if (absl::StrContains(response->body, "<Error>")) {
    return S3Error(http::HttpResponse{.status = 500, .body = response->body},
                   absl::StrCat("complete multipart upload of ", key));
  }
  return absl::OkStatus();
}

absl::Status S3Client::AbortMultipartUpload(const std::string& key, const std::string& upload_id) {
  Call call{.method = "DELETE", .key = key, .query = {{"uploadId", upload_id}}};
  absl::Status status = SendOk(call).status();
  if (absl::IsNotFound(status)) return absl::OkStatus();
  return status;
}

absl::StatusOr<ObjectPage> S3Client::ListObjects(const std::string& prefix,
                                                 const std::string& start_after, int max_keys,
                                                 const std::optional<std::string>& continuation) {
  Call call{
      .method = "GET",
      .query = {{"list-type", "2"}, {"prefix", prefix}, {"max-keys", absl::StrCat(max_keys)}}};
  if (!start_after.empty()) call.query.push_back({"start-after", start_after});
  if (continuation) call.query.push_back({"continuation-token", *continuation});
  absl::StatusOr<http::HttpResponse> response = SendOk(call);
  if (!response.ok()) return response.status();
  ObjectPage page;
  for (const std::string& contents : XmlElements(response->body, "Contents")) {
    ObjectInfo info;
    info.key = XmlElement(contents, "Key");
    if (!absl::SimpleAtoi(XmlElement(contents, "Size"), &info.size)) continue;
    info.etag = Unquote(XmlElement(contents, "ETag"));
    info.last_modified = ParseIsoTime(XmlElement(contents, "LastModified"));
    page.objects.push_back(std::move(info));
  }
  if (XmlElement(response->body, "IsTruncated") == "true") {
    page.continuation = XmlElement(response->body, "NextContinuationToken");
  }
  return page;
}

absl::StatusOr<std::vector<MultipartUploadInfo>> S3Client::ListMultipartUploads(
    const std::string& prefix) {
  std::vector<MultipartUploadInfo> uploads;
  std::string key_marker;
  std::string upload_id_marker;
  for (int pages = 0; pages < 10000; ++pages) {
    Call call{.method = "GET", .query = {{"uploads", ""}, {"prefix", prefix}}};
    if (!key_marker.empty()) {
      call.query.push_back({"key-marker", key_marker});
      call.query.push_back({"upload-id-marker", upload_id_marker});
    }
    absl::StatusOr<http::HttpResponse> response = SendOk(call);
    if (!response.ok()) return response.status();
    for (const std::string& upload : XmlElements(response->body, "Upload")) {
      uploads.push_back(MultipartUploadInfo{XmlElement(upload, "Key"),
                                            XmlElement(upload, "UploadId"),
                                            ParseIsoTime(XmlElement(upload, "Initiated"))});
    }
    if (XmlElement(response->body, "IsTruncated") != "true") break;
    key_marker = XmlElement(response->body, "NextKeyMarker");
    upload_id_marker = XmlElement(response->body, "NextUploadIdMarker");
    if (key_marker.empty()) break;
  }
  return uploads;
}

}  // namespace strata::s3
