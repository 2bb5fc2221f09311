#include "cli/util.h"

#include <cstdio>

namespace strata::cli {

int Fail(const absl::Status& status, int code) {
  return Fail(std::string(status.message()), code);
}

int Fail(const std::string& message, int code) {
  std::fprintf(stderr, "Error: %s\n", message.c_str());
  return code;
}

}  // namespace strata::cli
