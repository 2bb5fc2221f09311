#ifndef STRATA_CLI_UTIL_H_
#define STRATA_CLI_UTIL_H_

// Small things every command does.

#include <string>

#include "absl/status/status.h"

namespace strata::cli {

// docker's exit codes for `run`: the daemon (here, a service) failed, the command cannot be
// invoked, the command was not found.
inline constexpr int kExitServiceError = 125;
inline constexpr int kExitCannotInvoke = 126;
inline constexpr int kExitNotFound = 127;

// Prints "Error: <message>" on stderr and returns code (one clear line, as docker does).
int Fail(const absl::Status& status, int code = 1);
int Fail(const std::string& message, int code = 1);

}  // namespace strata::cli

#endif  // STRATA_CLI_UTIL_H_
