#ifndef STRATA_LIB_OCI_PLATFORM_H_
#define STRATA_LIB_OCI_PLATFORM_H_

// The platform an image is built for (OCI image index "platform": os, architecture,
// variant), parsed from docker's `--platform os/arch[/variant]` and matched as containerd
// does: arm64 without a variant is v8, arm without a variant is v7, amd64 ignores variants
// unless one is asked for.

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace strata::oci {

struct Platform {
  std::string os;
  std::string architecture;
  std::string variant;

  // "linux/arm64/v8", "linux/amd64".
  std::string ToString() const;
};

// Parses "os/arch[/variant]" (lowercased; "x86_64" is amd64, "aarch64" is arm64).
// Errors: INVALID_ARGUMENT naming the text and the expected form.
absl::StatusOr<Platform> ParsePlatform(absl::string_view text);

// The platform of this host (linux and the architecture this binary was built for).
Platform HostPlatform();

// True when an image built for `offered` runs where `wanted` is asked for.
bool PlatformMatches(const Platform& wanted, const Platform& offered);

}  // namespace strata::oci

#endif  // STRATA_LIB_OCI_PLATFORM_H_
