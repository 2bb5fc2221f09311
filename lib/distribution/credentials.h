#ifndef STRATA_LIB_DISTRIBUTION_CREDENTIALS_H_
#define STRATA_LIB_DISTRIBUTION_CREDENTIALS_H_

// Registry credentials in docker's config.json (`$DOCKER_CONFIG/config.json`, else
// `~/.docker/config.json`), the file `docker login` writes and podman reads; also read from
// containers' auth.json (`$REGISTRY_AUTH_FILE`), which has the same "auths" shape. The file
// is written with mode 0600, atomically, keeping every other key of it as it was.
//
// Credential helpers as docker uses them: `credHelpers` (registry host -> NAME) and then
// `credsStore` (NAME for every registry) in config.json send get, store and erase to
// `docker-credential-NAME` (found in PATH) with the server URL or a {ServerURL, Username,
// Secret} JSON on stdin; "credentials not found" on its stdout means none. A helper that is
// not installed is FAILED_PRECONDITION; one that fails is UNAVAILABLE.
//
// Keys are docker's: "https://index.docker.io/v1/" for docker.io, "HOST[:PORT]" otherwise;
// when reading, "https://HOST/..." and "http://HOST" forms of a key match HOST too.
// Errors: INVALID_ARGUMENT (a file that is not JSON, an "auth" that is not base64 user:pass),
// and the file system's (errno codes as lib/base/errors). Secrets never appear in messages.

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace strata::distribution {

struct Credentials {
  std::string username;
  std::string password;
};

// The config.json path: $DOCKER_CONFIG/config.json, else $HOME/.docker/config.json.
std::string DockerConfigPath();

// The key docker uses for a registry domain ("docker.io" -> "https://index.docker.io/v1/").
std::string CredentialKey(absl::string_view domain);

// Credentials for a domain: from config_path, else from $REGISTRY_AUTH_FILE; nullopt when
// neither has any. An empty config_path means DockerConfigPath().
absl::StatusOr<std::optional<Credentials>> LookupCredentials(absl::string_view domain,
                                                             std::string config_path = "");

// Records credentials for domain (login).
absl::Status StoreCredentials(absl::string_view domain, const Credentials& credentials,
                              std::string config_path = "");

// Forgets them (logout). Errors: NOT_FOUND when there were none ("Not logged in to DOMAIN").
absl::Status EraseCredentials(absl::string_view domain, std::string config_path = "");

}  // namespace strata::distribution

#endif  // STRATA_LIB_DISTRIBUTION_CREDENTIALS_H_
