#ifndef STRATA_CLI_ENV_FILE_H_
#define STRATA_CLI_ENV_FILE_H_

// docker's --env-file (opts.ParseEnvFile): one KEY=VALUE a line, blank lines and lines
// starting with '#' skipped, a KEY alone takes this shell's value (and is left out without one).

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace strata::cli {

// Errors: INVALID_ARGUMENT in docker's words ("no variable name on line '=x'", "variable
// 'a b' contains whitespaces").
absl::StatusOr<std::vector<std::string>> ParseEnvFileText(const std::string& text);

// Reads and parses the file. Errors: ParseEnvFileText's; NOT_FOUND and the like ("open F: ...").
absl::StatusOr<std::vector<std::string>> ReadEnvFile(const std::string& path);

}  // namespace strata::cli

#endif  // STRATA_CLI_ENV_FILE_H_
