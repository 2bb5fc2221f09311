#include "cli/util.h"

#include <cstdio>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace strata::cli {

namespace {

// What docker's daemon says (its client prints "Error response from daemon: " before it):
// lookups that found nothing, refusals because of the store's state, and the daemon's own
// checks of a request.
bool FromDaemon(const absl::Status& status) {
  if (absl::IsNotFound(status) || absl::IsFailedPrecondition(status) ||
      absl::IsAlreadyExists(status)) {
    return true;
  }
  for (const char* prefix : {"invalid repository name (", "refusing to create", "invalid filter",
                             "conflict: "}) {
    if (absl::StartsWith(status.message(), prefix)) return true;
  }
  return false;
}

}  // namespace

int Fail(const absl::Status& status, int code) {
  const std::string message(status.message());
  // docker's messages that carry their prefix ("Error parsing reference: ...").
  if (absl::StartsWith(message, "Error ")) return FailPlain(message, code);
  if (FromDaemon(status)) return FailDaemon(status, code);
  return Fail(message, code);
}

int Fail(const std::string& message, int code) {
  std::fprintf(stderr, "Error: %s\n", message.c_str());
  return code;
}

int FailPlain(const std::string& message, int code) {
  std::fprintf(stderr, "%s\n", message.c_str());
  return code;
}

int FailDaemon(const absl::Status& status, int code) {
  return FailPlain(absl::StrCat("Error response from daemon: ", status.message()), code);
}

int ForEachContainer(const std::vector<std::string>& containers,
                     const std::function<absl::Status(const std::string&)>& call) {
  int code = 0;
  for (const std::string& container : containers) {
    absl::Status status = call(container);
    if (status.ok()) {
      std::printf("%s\n", container.c_str());
    } else {
      code = Fail(status);
    }
  }
  return code;
}

}  // namespace strata::cli
