#ifndef STRATA_LIB_BASE_ERRORS_H_
#define STRATA_LIB_BASE_ERRORS_H_

// Turning errno into absl::Status, and the RETURN_IF_ERROR / ASSIGN_OR_RETURN helpers
// Debian's Abseil (20220623) does not ship.

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace strata {

// A Status for a failed system call: the code follows the errno (ENOENT -> NOT_FOUND,
// EEXIST -> ALREADY_EXISTS, EACCES/EPERM -> PERMISSION_DENIED, EINVAL -> INVALID_ARGUMENT,
// ENOSPC -> RESOURCE_EXHAUSTED, else INTERNAL) and the message is
// "<what>: <strerror(errnum)>".
absl::Status ErrnoStatus(int errnum, absl::string_view what);

// Adds context in front of a status's message, keeping its code: "<context>: <message>".
absl::Status Annotate(const absl::Status& status, absl::string_view context);

// Names in messages stay readable and messages stay small: text longer than max_size is
// cut in the middle, keeping its head and its tail (where a path's distinguishing parts are)
// around "...". The result is at most max_size bytes (never less than the marker), and is
// never cut inside a UTF-8 sequence.
inline constexpr size_t kMaxNameInMessage = 256;
std::string ShortenMiddle(absl::string_view text, size_t max_size = kMaxNameInMessage);

}  // namespace strata

#define STRATA_CONCAT_INNER_(a, b) a##b
#define STRATA_CONCAT_(a, b) STRATA_CONCAT_INNER_(a, b)

#define RETURN_IF_ERROR(expr)                        \
  do {                                               \
    ::absl::Status strata_status_ = (expr);          \
    if (!strata_status_.ok()) return strata_status_; \
  } while (0)

#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL_(STRATA_CONCAT_(strata_statusor_, __LINE__), lhs, expr)

#define ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                           \
  if (!statusor.ok()) return statusor.status();     \
  lhs = std::move(statusor).value()

#endif  // STRATA_LIB_BASE_ERRORS_H_
