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
  // stdout, and stderr too unless CommandOptions::separate_stderr.
  std::string output;
  // stderr, with CommandOptions::separate_stderr.
  std::string error_output;
};

struct CommandOptions {
  // Run as this user and group when >= 0.
  int uid = -1;
  int gid = -1;
  // Extra "K=V" environment entries on top of ours.
  std::vector<std::string> env;
  // Written to the command's stdin (then closed); empty: stdin is /dev/null.
  std::string stdin_data;
  // Keep stderr apart, in CommandResult::error_output.
  bool separate_stderr = false;
};

// Runs argv (found in PATH) to completion.
// Errors: INTERNAL when it cannot be started (argv[0] missing: exit code 127 instead).
absl::StatusOr<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                         const CommandOptions& options = {});

// Pointers to the strings followed by nullptr, as execv() takes argv and envp; valid while
// `strings` lives unchanged. Build it before fork(): the child may not allocate.
std::vector<char*> CStringArray(const std::vector<std::string>& strings);

// Like RunCommand, but a non-zero exit is an error (INTERNAL) quoting the command's output.
absl::Status RunCommandOk(const std::vector<std::string>& argv,
                          const CommandOptions& options = {});

}  // namespace strata

#endif  // STRATA_LIB_BASE_SUBPROCESS_H_
