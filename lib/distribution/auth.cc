#include "lib/distribution/auth.h"

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "nlohmann/json.hpp"

namespace strata::distribution {
namespace {

std::string ScopeKey(const std::vector<std::string>& scopes) { return absl::StrJoin(scopes, " "); }

}  // namespace

absl::StatusOr<Challenge> ParseChallenge(absl::string_view header) {
  header = absl::StripAsciiWhitespace(header);
  const size_t space = header.find(' ');
  Challenge challenge;
  challenge.scheme = absl::AsciiStrToLower(header.substr(0, space));
  if (challenge.scheme.empty()) {
    return absl::InvalidArgumentError("WWW-Authenticate header is empty");
  }
  if (space == absl::string_view::npos) return challenge;
  absl::string_view rest = header.substr(space + 1);
  while (!rest.empty()) {
    rest = absl::StripLeadingAsciiWhitespace(rest);
    const size_t eq = rest.find('=');
    if (eq == absl::string_view::npos) break;
    std::string name = absl::AsciiStrToLower(absl::StripAsciiWhitespace(rest.substr(0, eq)));
    rest = rest.substr(eq + 1);
    std::string value;
    if (!rest.empty() && rest[0] == '"') {
      size_t i = 1;
      for (; i < rest.size() && rest[i] != '"'; ++i) {
        if (rest[i] == '\\' && i + 1 < rest.size()) ++i;
        value.push_back(rest[i]);
      }
      if (i >= rest.size()) {
        return absl::InvalidArgumentError("WWW-Authenticate header has an unclosed quote");
      }
      rest = rest.substr(i + 1);
    } else {
      const size_t comma = rest.find(',');
      value = std::string(absl::StripAsciiWhitespace(rest.substr(0, comma)));
      rest = comma == absl::string_view::npos ? "" : rest.substr(comma);
    }
    challenge.params[name] = value;
    rest = absl::StripLeadingAsciiWhitespace(rest);
    if (!rest.empty() && rest[0] == ',') rest = rest.substr(1);
  }
  return challenge;
}

std::string Authorizer::Cached(const std::vector<std::string>& scopes) {
  absl::MutexLock lock(&mutex_);
  if (!basic_header_.empty()) return basic_header_;
  auto it = cache_.find(ScopeKey(scopes));
  if (it == cache_.end() || it->second.expires <= absl::Now()) return "";
  return it->second.header;
}

absl::StatusOr<std::string> Authorizer::Answer(const Challenge& challenge,
                                               const std::vector<std::string>& scopes) {
  if (challenge.scheme == "basic") {
    if (!credentials_) {
      return absl::UnauthenticatedError(
          "unauthorized: authentication required (log in with strata login)");
    }
    std::string header = absl::StrCat(
        "Basic ",
        absl::Base64Escape(absl::StrCat(credentials_->username, ":", credentials_->password)));
    absl::MutexLock lock(&mutex_);
    basic_header_ = header;
    return header;
  }
  if (challenge.scheme != "bearer") {
    return absl::InvalidArgumentError(absl::StrCat("the registry asks for \"", challenge.scheme,
                                                   "\" authentication, which Strata does "
                                                   "not speak (Bearer and Basic only)"));
  }
  auto realm = challenge.params.find("realm");
  if (realm == challenge.params.end() || realm->second.empty()) {
    return absl::InvalidArgumentError("the registry's Bearer challenge names no realm");
  }
  std::string url = realm->second;
  std::vector<std::string> query;
  if (auto service = challenge.params.find("service"); service != challenge.params.end()) {
    query.push_back(absl::StrCat("service=", http::UrlEncode(service->second)));
  }
  for (const std::string& scope : scopes) {
    query.push_back(absl::StrCat("scope=", http::UrlEncode(scope)));
  }
  if (!query.empty()) {
    absl::StrAppend(&url, url.find('?') == std::string::npos ? "?" : "&",
                    absl::StrJoin(query, "&"));
  }
  http::HttpRequest request;
  request.url = url;
  request.tls = tls_;
  request.timeout = absl::Seconds(60);
  if (credentials_) {
    request.user_password = absl::StrCat(credentials_->username, ":", credentials_->password);
  }
  http::HttpClient client(session_);
  absl::StatusOr<http::HttpResponse> response = client.Perform(request);
  if (!response.ok()) return response.status();
  if (response->status == 401 || response->status == 403) {
    return absl::UnauthenticatedError(
        credentials_ ? "unauthorized: incorrect username or password"
                     : "unauthorized: authentication required (log in with strata login)");
  }
  if (response->status != 200) {
    return absl::UnavailableError(
        absl::StrCat("token server ", http::RedactUrl(url), " answered HTTP ", response->status));
  }
  nlohmann::json body = nlohmann::json::parse(response->body, nullptr, false);
  std::string token;
  if (body.is_object()) {
    token = body.value("token", body.value("access_token", ""));
  }
  if (token.empty()) {
    return absl::UnavailableError(
        absl::StrCat("token server ", http::RedactUrl(url), " gave no token"));
  }
  int64_t expires_in = 60;  // The spec's default.
  if (body.contains("expires_in") && body["expires_in"].is_number_integer()) {
    expires_in = std::max<int64_t>(body["expires_in"].get<int64_t>(), 1);
  }
  std::string header = absl::StrCat("Bearer ", token);
  absl::MutexLock lock(&mutex_);
  // Renew a little early, so a token never expires in flight.
  cache_[ScopeKey(scopes)] = {header, absl::Now() + absl::Seconds(expires_in) * 0.9};
  return header;
}

}  // namespace strata::distribution
