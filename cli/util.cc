#include "cli/util.h"

#include <cstdio>

#include "absl/strings/str_cat.h"

namespace strata::cli {

int Fail(const absl::Status& status, int code) {
  return Fail(std::string(status.message()), code);
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
