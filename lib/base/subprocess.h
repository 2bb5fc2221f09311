#ifndef STRATA_LIB_BASE_SUBPROCESS_H_
#define STRATA_LIB_BASE_SUBPROCESS_H_

// Running a helper program (runc, mount helpers, test tools) to completion.

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace strata {

struct CommandResult {
  // 128 + signal number when a signal ended it.
  int exit_code = -1;
  // stdout and stderr together, in the order written.
  std::string output;
};

struct CommandOptions {
  // Run as this user and group when >= 0.
  int uid = -1;
  int gid = -1;
  // Extra "K=V" environment entries on top of ours.
  std::vector<std::string> env;
};

// Runs argv (found in PATH) with stdin from /dev/null.
// Errors: INTERNAL when it cannot be started (argv[0] missing: exit code 127 instead).
absl::StatusOr<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                         const CommandOptions& options = {});

// Like RunCommand, but a non-zero exit is an error (INTERNAL) quoting the command's output.
absl::Status RunCommandOk(const std::vector<std::string>& argv,
                          const CommandOptions& options = {});

}  // namespace strata

#endif  // STRATA_LIB_BASE_SUBPROCESS_H_
