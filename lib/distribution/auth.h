#ifndef STRATA_LIB_DISTRIBUTION_AUTH_H_
#define STRATA_LIB_DISTRIBUTION_AUTH_H_

// Registry authentication (docker's token auth spec and RFC 7235): the WWW-Authenticate
// challenge of a 401, Bearer tokens fetched from the challenge's realm for a set of scopes
// (`repository:NAME:pull[,push]`), anonymously or with credentials, cached until they expire,
// and HTTP Basic. Credentials go only to the realm the registry named and never into a
// message.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "lib/distribution/credentials.h"
#include "lib/http/http_client.h"

namespace strata::distribution {

struct Challenge {
  // Lowercased: "bearer" or "basic".
  std::string scheme;
  // Lowercased names: realm, service, scope, error...
  std::map<std::string, std::string> params;
};

// Parses `Bearer realm="https://auth.example/token",service="registry",scope="..."`.
// Errors: INVALID_ARGUMENT for a header that is not a challenge.
absl::StatusOr<Challenge> ParseChallenge(absl::string_view header);

// The Authorization header values for one registry, per set of scopes. Thread-safe.
class Authorizer {
 public:
  Authorizer(std::optional<Credentials> credentials, http::TlsOptions tls,
             http::HttpSession* session)
      : credentials_(std::move(credentials)), tls_(std::move(tls)), session_(session) {}

  // The header to send for these scopes ("" when no challenge was seen yet).
  std::string Cached(const std::vector<std::string>& scopes);

  // Answers a 401's challenge: fetches (or builds) the header for these scopes and caches
  // it. Errors: UNAUTHENTICATED ("unauthorized: incorrect username or password" when the
  // realm refused the credentials), UNAVAILABLE (the realm unreachable), INVALID_ARGUMENT
  // (a challenge Strata cannot answer).
  absl::StatusOr<std::string> Answer(const Challenge& challenge,
                                     const std::vector<std::string>& scopes);

  bool has_credentials() const { return credentials_.has_value(); }

 private:
  std::optional<Credentials> credentials_;
  http::TlsOptions tls_;
  http::HttpSession* session_;
  absl::Mutex mutex_;
  struct Entry {
    std::string header;
    absl::Time expires;
  };
  std::map<std::string, Entry> cache_ ABSL_GUARDED_BY(mutex_);
  // The last challenge's scheme: Basic applies to every scope at once.
  std::string basic_header_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace strata::distribution

#endif  // STRATA_LIB_DISTRIBUTION_AUTH_H_
