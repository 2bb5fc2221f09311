// The push half of RegistryClient: mounts, blob uploads and manifest PUTs (OCI distribution
// spec, "Pushing blobs" and "Pushing manifests").

#include <algorithm>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "lib/base/errors.h"
#include "lib/distribution/registry_client.h"

namespace strata::distribution {
namespace {

// Reads at most `limit` bytes of a ByteSource as an HTTP request body.
class LimitedReader {
 public:
  LimitedReader(layer::ByteSource* source, int64_t limit) : source_(source), left_(limit) {}

  absl::StatusOr<size_t> operator()(char* buffer, size_t size) {
    size_t done = 0;
    while (done < size && left_ > 0) {
      if (pending_.empty()) {
        ASSIGN_OR_RETURN(pending_, source_->Read());
        if (pending_.empty()) {
          return absl::DataLossError(
              absl::StrCat("the blob ended ", left_, " bytes before its size"));
        }
      }
      const size_t n = std::min<size_t>({size - done, pending_.size(), static_cast<size_t>(left_)});
      std::copy(pending_.data(), pending_.data() + n, buffer + done);
      pending_.remove_prefix(n);
      done += n;
      left_ -= n;
    }
    return done;
  }

 private:
  layer::ByteSource* source_;
  absl::string_view pending_;
  int64_t left_;
};

std::string WithQuery(const std::string& url, const std::string& query) {
  return absl::StrCat(url, url.find('?') == std::string::npos ? "?" : "&", query);
}

// "0-1234" -> 1235 (the bytes the registry holds); -1 when absent or malformed.
int64_t EndOfRange(const std::string& range) {
  const size_t dash = range.find('-');
  int64_t last = 0;
  if (dash == std::string::npos || !absl::SimpleAtoi(range.substr(dash + 1), &last)) return -1;
  return last + 1;
}

}  // namespace

absl::StatusOr<std::string> RegistryClient::StartUpload(const std::string& repository,
                                                        std::string query, const Target& target,
                                                        long* status) {
  ASSIGN_OR_RETURN(std::string base, BaseUrl());
  http::HttpRequest request;
  request.method = "POST";
  request.url = absl::StrCat(base, "/v2/", repository, "/blobs/uploads/");
  if (!query.empty()) request.url = WithQuery(request.url, query);
  request.headers.push_back("Content-Length: 0");
  request.timeout = absl::Minutes(1);
  ASSIGN_OR_RETURN(http::HttpResponse response, Send(request, target));
  *status = response.status;
  if (response.status != 201 && response.status != 202) {
    return ResponseError(response, absl::StrCat("upload to ", domain_, "/", repository));
  }
  return Absolute(request.url, response.Header("location"));
}

absl::StatusOr<bool> RegistryClient::MountBlob(const std::string& repository, const Digest& digest,
                                               const std::string& from_repository) {
  long status = 0;
  const std::string query =
      absl::StrCat("mount=", digest.str(), "&from=", http::UrlEncode(from_repository));
  absl::StatusOr<std::string> location =
      StartUpload(repository, query, Target{repository, true, from_repository}, &status);
  if (!location.ok()) return location.status();
  if (status == 201) return true;
  // 202: the registry started an ordinary upload instead; leave it to expire unused.
  return false;
}

absl::Status RegistryClient::PushBlob(const std::string& repository, const Digest& digest,
                                      int64_t size, const BlobOpener& open) {
  const Target target{repository, true, ""};
  const std::string what = absl::StrCat("blob ", digest.str(), " to ", domain_, "/", repository);
  long status = 0;
  ASSIGN_OR_RETURN(std::string location, StartUpload(repository, "", target, &status));
  int64_t sent = 0;  // Bytes the registry holds.
  int failures = 0;
  bool monolithic = false;
  const int64_t chunk =
      options_.upload_chunk_bytes > 0 ? options_.upload_chunk_bytes : std::max<int64_t>(size, 1);
  while (sent < size && !monolithic) {
    const int64_t length = std::min(chunk, size - sent);
    ASSIGN_OR_RETURN(std::unique_ptr<layer::ByteSource> source, open(sent));
    http::HttpRequest request;
    request.method = "PATCH";
    request.url = location;
    request.headers.push_back("Content-Type: application/octet-stream");
    request.headers.push_back(absl::StrCat("Content-Range: ", sent, "-", sent + length - 1));
    request.body_reader = LimitedReader(source.get(), length);
    request.body_size = length;
    absl::StatusOr<http::HttpResponse> response = Send(request, target);
    if (response.ok() && response->status == 202) {
      location = Absolute(location, response->Header("location"));
      const int64_t held = EndOfRange(response->Header("range"));
      sent = held >= 0 ? held : sent + length;
      continue;
    }
    if (response.ok() &&
        (response->status == 404 || response->status == 405 || response->status == 501) &&
        sent == 0) {
      monolithic = true;  // This registry takes a blob in one PUT only.
      break;
    }
    const bool dropped = (!response.ok() && absl::IsUnavailable(response.status())) ||
                         (response.ok() && response->status >= 500);
    if (!dropped || ++failures >= options_.max_attempts) {
      if (!response.ok()) return response.status();
      return ResponseError(*response, what);
    }
    // Ask the registry how much it has, and go on from there.
    absl::SleepFor(options_.first_backoff * failures);
    http::HttpRequest ask;
    ask.method = "GET";
    ask.url = location;
    ASSIGN_OR_RETURN(http::HttpResponse progress, Send(ask, target));
    if (progress.status != 204) return ResponseError(progress, what);
    location = Absolute(
        location, progress.Header("location").empty() ? location : progress.Header("location"));
    const int64_t held = EndOfRange(progress.Header("range"));
    sent = std::max<int64_t>(held, 0);
  }

  http::HttpRequest finish;
  finish.method = "PUT";
  finish.url = WithQuery(location, absl::StrCat("digest=", http::UrlEncode(digest.str())));
  finish.headers.push_back("Content-Type: application/octet-stream");
  std::unique_ptr<layer::ByteSource> source;
  if (monolithic) {
    ASSIGN_OR_RETURN(source, open(0));
    finish.body_reader = LimitedReader(source.get(), size);
    finish.body_size = size;
  } else {
    finish.headers.push_back("Content-Length: 0");
  }
  ASSIGN_OR_RETURN(http::HttpResponse done, Send(finish, target));
  if (done.status != 201) {
    if (done.status == 400 && absl::StrContains(done.body, "DIGEST_INVALID")) {
      return absl::DataLossError(absl::StrCat(
          what, ": the registry computed another digest: ", RegistryErrorText(done.body)));
    }
    return ResponseError(done, what);
  }
  return absl::OkStatus();
}

absl::Status RegistryClient::PushStreamedBlob(
    const std::string& repository, layer::ByteSource* source,
    const std::function<absl::StatusOr<Digest>()>& digest) {
  const Target target{repository, true, ""};
  const std::string what = absl::StrCat("blob upload to ", domain_, "/", repository);
  long status = 0;
  ASSIGN_OR_RETURN(std::string location, StartUpload(repository, "", target, &status));
  absl::Status source_error;
  absl::string_view pending;
  http::HttpRequest request;
  request.method = "PATCH";
  request.url = location;
  request.headers.push_back("Content-Type: application/octet-stream");
  request.body_size = -1;  // chunked: the size is known at the end
  request.body_reader = [&](char* buffer, size_t size) -> absl::StatusOr<size_t> {
    while (pending.empty()) {
      absl::StatusOr<absl::string_view> chunk = source->Read();
      if (!chunk.ok()) {
        source_error = chunk.status();
        return chunk.status();
      }
      if (chunk->empty()) return 0;
      pending = *chunk;
    }
    const size_t n = std::min(size, pending.size());
    std::copy(pending.data(), pending.data() + n, buffer);
    pending.remove_prefix(n);
    return n;
  };
  absl::StatusOr<http::HttpResponse> response = Send(request, target);
  if (!source_error.ok()) return source_error;
  if (!response.ok()) return response.status();
  if (response->status != 202) return ResponseError(*response, what);
  location = Absolute(location, response->Header("location"));
  ASSIGN_OR_RETURN(Digest blob, digest());
  http::HttpRequest finish;
  finish.method = "PUT";
  finish.url = WithQuery(location, absl::StrCat("digest=", http::UrlEncode(blob.str())));
  finish.headers.push_back("Content-Type: application/octet-stream");
  finish.headers.push_back("Content-Length: 0");
  ASSIGN_OR_RETURN(http::HttpResponse done, Send(finish, target));
  if (done.status != 201) {
    if (done.status == 400 && absl::StrContains(done.body, "DIGEST_INVALID")) {
      return absl::DataLossError(absl::StrCat(
          what, ": the registry computed another digest: ", RegistryErrorText(done.body)));
    }
    return ResponseError(done, what);
  }
  return absl::OkStatus();
}

absl::StatusOr<Digest> RegistryClient::PutManifest(const std::string& repository,
                                                   const std::string& reference,
                                                   const std::string& media_type,
                                                   const std::string& bytes) {
  ASSIGN_OR_RETURN(std::string base, BaseUrl());
  http::HttpRequest request;
  request.method = "PUT";
  request.url = absl::StrCat(base, "/v2/", repository, "/manifests/", reference);
  request.headers.push_back(absl::StrCat("Content-Type: ", media_type));
  request.body = bytes;
  request.timeout = absl::Minutes(2);
  ASSIGN_OR_RETURN(http::HttpResponse response, Send(request, Target{repository, true, ""}));
  if (response.status != 201 && response.status != 200) {
    return ResponseError(response,
                         absl::StrCat("manifest ", domain_, "/", repository, ":", reference));
  }
  const Digest digest = Digest::Of(bytes);
  absl::StatusOr<Digest> recorded = Digest::Parse(response.Header("docker-content-digest"));
  if (recorded.ok() && *recorded != digest) {
    return absl::DataLossError(absl::StrCat("the registry recorded manifest ", recorded->str(),
                                            " for one whose digest is ", digest.str()));
  }
  return digest;
}

}  // namespace strata::distribution
