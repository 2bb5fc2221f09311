#ifndef STRATA_CLI_CORE_CHANGES_H_
#define STRATA_CLI_CORE_CHANGES_H_

// `-c CHANGE` for commit and import: the Dockerfile instructions docker accepts there (CMD,
// ENTRYPOINT, ENV, LABEL, WORKDIR, USER, EXPOSE, ONBUILD, STOPSIGNAL, VOLUME), in JSON (exec)
// form or shell form, applied to an image's run configuration with docker's rules.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "lib/oci/image_config.h"

namespace strata::gateway {

// Applies the changes in order. As in a Dockerfile, ENTRYPOINT clears the cmd unless a CMD
// came before it in the same list.
// Errors: INVALID_ARGUMENT naming the change and what is wrong with it.
absl::Status ApplyChanges(const std::vector<std::string>& changes, oci::RunConfig& config);

// Splits shell-ish words: whitespace separated, with '...' and "..." quoting and backslash
// escapes (what ENV and LABEL values use).
absl::StatusOr<std::vector<std::string>> SplitWords(const std::string& text);

}  // namespace strata::gateway

#endif  // STRATA_CLI_CORE_CHANGES_H_
