#ifndef STRATA_LIB_OCI_IMAGE_INDEX_H_
#define STRATA_LIB_OCI_IMAGE_INDEX_H_

// A multi-platform image: OCI image index or docker manifest list (the same shape), and the
// choice of the manifest for one platform.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "lib/oci/descriptor.h"
#include "lib/oci/platform.h"

namespace strata::oci {

struct ImageIndex {
  // kMediaTypeImageIndex or kDockerManifestList.
  std::string media_type;
  std::vector<Descriptor> manifests;

  std::string Serialize() const;
};

// Errors: INVALID_ARGUMENT naming the field.
absl::StatusOr<ImageIndex> ParseImageIndex(absl::string_view json, absl::string_view media_type);

// The manifest for `wanted`: the first entry whose platform matches.
// Errors: NOT_FOUND naming `wanted` and every platform the index offers.
absl::StatusOr<Descriptor> SelectPlatform(const ImageIndex& index, const Platform& wanted);

}  // namespace strata::oci

#endif  // STRATA_LIB_OCI_IMAGE_INDEX_H_
