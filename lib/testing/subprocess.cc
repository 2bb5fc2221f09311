#include "lib/testing/subprocess.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace strata::testing {

absl::StatusOr<RunResult> Run(const std::vector<std::string>& argv, uid_t uid, gid_t gid,
                              const std::vector<std::string>& env) {
  return RunCommand(argv, {.uid = static_cast<int>(uid), .gid = static_cast<int>(gid),
                           .env = env});
}

absl::Status RunOk(const std::vector<std::string>& argv, uid_t uid, gid_t gid,
                   const std::vector<std::string>& env) {
  return RunCommandOk(argv, {.uid = static_cast<int>(uid), .gid = static_cast<int>(gid),
                             .env = env});
}

std::string RunfilePath(const std::string& workspace_relative) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  if (srcdir == nullptr) return workspace_relative;
  return absl::StrCat(srcdir, "/", workspace ? workspace : "strata", "/", workspace_relative);
}

}  // namespace strata::testing
