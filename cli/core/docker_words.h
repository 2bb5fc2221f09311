#ifndef STRATA_CLI_CORE_DOCKER_WORDS_H_
#define STRATA_CLI_CORE_DOCKER_WORDS_H_

// docker's words for the refusals scripts match (moby's client and daemon): the checks the
// gateway makes before it asks a service, so every door (CLI, gRPC) says the same.

#include <string>

#include "absl/status/status.h"

namespace strata::gateway {

// What docker refuses as a tag target, in its words. Errors: INVALID_ARGUMENT
//   `Error parsing reference: "T" is not a valid repository/tag: invalid reference format: ...`
//   `invalid repository name (HEX), cannot specify 64-byte hexadecimal strings`
//   `refusing to create an ambiguous tag using digest algorithm as name` (repository sha256)
absl::Status CheckTagTarget(const std::string& target);

// The reference as docker names it in "No such image: X": a name without a tag or digest
// gets ":latest"; ids and anything that is no reference stay as given.
std::string ImageNameForError(const std::string& ref);

// rmi's conflict as docker words it: imagegraph's message without the list it adds after
// "image has dependent child images" and "image is referenced in multiple repositories".
std::string DockerConflict(const std::string& message);

// moby's client for an empty name: INVALID_ARGUMENT "invalid KIND name or ID: value is empty".
absl::Status EmptyNameError(const std::string& kind);

}  // namespace strata::gateway

#endif  // STRATA_CLI_CORE_DOCKER_WORDS_H_
