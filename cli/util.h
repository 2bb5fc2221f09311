#ifndef STRATA_CLI_UTIL_H_
#define STRATA_CLI_UTIL_H_

// Small things every command does: report an error the way docker does, and its exit codes.

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "lib/base/errors.h"

namespace strata::cli {

// docker's exit codes for `run`: the daemon (here, a service) failed, the command cannot be
// invoked, the command was not found.
inline constexpr int kExitServiceError = 125;
inline constexpr int kExitCannotInvoke = 126;
inline constexpr int kExitNotFound = 127;

// Prints the error on stderr in docker's words and returns code (one clear line): what the
// services refused or did not find as "Error response from daemon: <message>" (NOT_FOUND,
// FAILED_PRECONDITION, ALREADY_EXISTS and the daemon's own checks), a message that carries
// docker's prefix as it is, anything else as "Error: <message>".
int Fail(const absl::Status& status, int code = 1);
// "Error: <message>".
int Fail(const std::string& message, int code = 1);
// Prints message on stderr as it is: docker's messages that carry their own prefix
// ("template parsing error: ...", "Error response from daemon: ...").
int FailPlain(const std::string& message, int code = 1);
// docker's "Error response from daemon: <message>", for what the services refused.
int FailDaemon(const absl::Status& status, int code = 1);

// Runs call for each container of a command line (stop, kill, rm, ...): prints the name as
// given on success, the error otherwise; the exit code is 1 when any failed.
int ForEachContainer(const std::vector<std::string>& containers,
                     const std::function<absl::Status(const std::string&)>& call);

}  // namespace strata::cli

// Like ASSIGN_OR_RETURN, in a command: on error, prints it and returns Fail's exit code (1,
// or the code given as a third argument).
#define ASSIGN_OR_FAIL(lhs, expr, ...) \
  ASSIGN_OR_FAIL_IMPL_(STRATA_CONCAT_(strata_or_fail_, __LINE__), lhs, expr, ##__VA_ARGS__)
#define ASSIGN_OR_FAIL_IMPL_(statusor, lhs, expr, ...)                            \
  auto statusor = (expr);                                                         \
  if (!statusor.ok()) return ::strata::cli::Fail(statusor.status(), ##__VA_ARGS__); \
  lhs = std::move(statusor).value()

// ASSIGN_OR_FAIL with docker's "Error response from daemon: " (FailDaemon).
#define ASSIGN_OR_FAIL_DAEMON(lhs, expr) \
  ASSIGN_OR_FAIL_DAEMON_IMPL_(STRATA_CONCAT_(strata_or_fail_, __LINE__), lhs, expr)
#define ASSIGN_OR_FAIL_DAEMON_IMPL_(statusor, lhs, expr)                          \
  auto statusor = (expr);                                                         \
  if (!statusor.ok()) return ::strata::cli::FailDaemon(statusor.status());        \
  lhs = std::move(statusor).value()

#endif  // STRATA_CLI_UTIL_H_
