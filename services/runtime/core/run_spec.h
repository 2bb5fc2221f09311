#ifndef STRATA_SERVICES_RUNTIME_CORE_RUN_SPEC_H_
#define STRATA_SERVICES_RUNTIME_CORE_RUN_SPEC_H_

// How a container's main process runs: the image's run configuration (oci::RunConfig)
// merged with what the user asked for, by docker's rules.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/oci/image_config.h"

namespace strata::runtime {

struct RunOverrides {
  // Present: replaces the image's entrypoint and drops the image's cmd (docker's
  // --entrypoint); present and empty clears the entrypoint.
  std::optional<std::vector<std::string>> entrypoint;
  // Non-empty: replaces the cmd.
  std::vector<std::string> cmd;
  // Added, replacing entries with the same key.
  std::vector<std::string> env;
  // Non-empty: replace.
  std::string working_dir;
  std::string user;
  std::map<std::string, std::string> labels;
};

// The image's spec with the overrides applied.
// Errors: INVALID_ARGUMENT for an env entry without a key.
absl::StatusOr<oci::RunConfig> MergeRunSpec(const oci::RunConfig& image, const RunOverrides& overrides);

// The command line: entrypoint followed by cmd.
// Errors: INVALID_ARGUMENT when both are empty ("no command specified").
absl::StatusOr<std::vector<std::string>> CommandLine(const oci::RunConfig& spec);

// Sets KEY in an env list, replacing an existing KEY=...
void SetEnv(std::vector<std::string>& env, const std::string& key, const std::string& value);
// The value of KEY in an env list, if present.
std::optional<std::string> GetEnv(const std::vector<std::string>& env, const std::string& key);

}  // namespace strata::runtime

#endif  // STRATA_SERVICES_RUNTIME_CORE_RUN_SPEC_H_
