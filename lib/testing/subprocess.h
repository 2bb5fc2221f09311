#ifndef STRATA_LIB_TESTING_SUBPROCESS_H_
#define STRATA_LIB_TESTING_SUBPROCESS_H_

// Running helper programs from tests.

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/base/subprocess.h"

namespace strata::testing {

using RunResult = CommandResult;

// Runs argv to completion, optionally as another user (uid/gid >= 0), with extra environment
// entries "K=V". Errors: INTERNAL when it cannot be started.
absl::StatusOr<RunResult> Run(const std::vector<std::string>& argv, uid_t uid = -1,
                              gid_t gid = -1, const std::vector<std::string>& env = {});

// Like Run, but a non-zero exit is an error carrying the output.
absl::Status RunOk(const std::vector<std::string>& argv, uid_t uid = -1, gid_t gid = -1,
                   const std::vector<std::string>& env = {});

// Absolute path of a file of this workspace in the test's runfiles, e.g.
// "services/layerstore/layerstore".
std::string RunfilePath(const std::string& workspace_relative);

}  // namespace strata::testing

#endif  // STRATA_LIB_TESTING_SUBPROCESS_H_
