#include "lib/oci/platform.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "lib/oci/image_config.h"

namespace strata::oci {
namespace {

std::string NormalArchitecture(std::string arch) {
  if (arch == "x86_64" || arch == "x86-64") return "amd64";
  if (arch == "aarch64") return "arm64";
  if (arch == "i386") return "386";
  return arch;
}

// The variant an architecture has when none is written.
std::string DefaultVariant(const std::string& arch) {
  if (arch == "arm64") return "v8";
  if (arch == "arm") return "v7";
  return "";
}

}  // namespace

std::string Platform::ToString() const {
  std::string out = absl::StrCat(os, "/", architecture);
  if (!variant.empty()) absl::StrAppend(&out, "/", variant);
  return out;
}

absl::StatusOr<Platform> ParsePlatform(absl::string_view text) {
  std::vector<std::string> parts = absl::StrSplit(absl::AsciiStrToLower(text), '/');
  if (parts.size() < 2 || parts.size() > 3 || parts[0].empty() || parts[1].empty() ||
      (parts.size() == 3 && parts[2].empty())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid platform \"", text, "\": expected os/arch[/variant], e.g. linux/arm64/v8"));
  }
  Platform platform;
  platform.os = parts[0];
  platform.architecture = NormalArchitecture(parts[1]);
  if (parts.size() == 3) platform.variant = parts[2];
  return platform;
}

Platform HostPlatform() {
  Platform platform;
  platform.os = "linux";
  platform.architecture = HostArchitecture();
  return platform;
}

bool PlatformMatches(const Platform& wanted, const Platform& offered) {
  if (wanted.os != offered.os) return false;
  const std::string arch = NormalArchitecture(offered.architecture);
  if (wanted.architecture != arch) return false;
  if (wanted.variant.empty() && DefaultVariant(arch).empty()) return true;
  const std::string want_variant =
      wanted.variant.empty() ? DefaultVariant(wanted.architecture) : wanted.variant;
  const std::string offered_variant =
      offered.variant.empty() ? DefaultVariant(arch) : offered.variant;
  return want_variant == offered_variant;
}

}  // namespace strata::oci
