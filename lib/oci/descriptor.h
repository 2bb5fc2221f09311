#ifndef STRATA_LIB_OCI_DESCRIPTOR_H_
#define STRATA_LIB_OCI_DESCRIPTOR_H_

// An OCI content descriptor (image-spec descriptor.md): what a manifest or index says about a
// blob or manifest it points at. Docker schema 2 uses the same shape.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "lib/digest/digest.h"
#include "lib/oci/platform.h"
#include "nlohmann/json.hpp"

namespace strata::oci {

struct Descriptor {
  std::string media_type;
  Digest digest;
  int64_t size = 0;
  // Where a non-distributable layer can be fetched from; Strata never follows them.
  std::vector<std::string> urls;
  std::map<std::string, std::string> annotations;
  // Only in an image index.
  std::optional<Platform> platform;
};

// Reads a descriptor; `where` names it in errors ("manifest layers[2]").
// Errors: INVALID_ARGUMENT naming the field.
absl::StatusOr<Descriptor> DescriptorFromJson(const nlohmann::json& value, absl::string_view where);
nlohmann::json DescriptorToJson(const Descriptor& descriptor);

}  // namespace strata::oci

#endif  // STRATA_LIB_OCI_DESCRIPTOR_H_
