#ifndef STRATA_LIB_OCI_MANIFEST_H_
#define STRATA_LIB_OCI_MANIFEST_H_

// An image manifest: OCI image manifest v1 or docker image manifest v2 schema 2 (the same
// shape with other media types). Parse and serialise; the layer media types of either are
// translated to the OCI ones Strata records, and back for docker schema 2.

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "lib/oci/descriptor.h"

namespace strata::oci {

enum class ManifestFormat { kOci, kDockerV2Schema2 };

struct Manifest {
  // kMediaTypeImageManifest or kDockerManifest.
  std::string media_type;
  Descriptor config;
  std::vector<Descriptor> layers;
  std::map<std::string, std::string> annotations;

  ManifestFormat format() const;
  // The JSON as it would be pushed: its bytes are what the manifest digest is taken of.
  std::string Serialize() const;
};

// Parses a manifest document whose media type is already known to be an image manifest.
// Errors: INVALID_ARGUMENT naming the field; for a layer that may not be redistributed,
// INVALID_ARGUMENT saying so (Strata never fetches from foreign URLs).
absl::StatusOr<Manifest> ParseManifest(absl::string_view json, absl::string_view media_type);

// The OCI layer media type for a layer media type of either format
// (application/vnd.docker.image.rootfs.diff.tar.gzip -> ...tar+gzip).
// Errors: INVALID_ARGUMENT for what is not a layer, or a non-distributable one.
absl::StatusOr<std::string> OciLayerMediaType(absl::string_view media_type);

// The media type a layer of OCI media type `oci_type` has in `format`.
// Errors: INVALID_ARGUMENT when docker schema 2 has no such layer (zstd).
absl::StatusOr<std::string> LayerMediaTypeFor(absl::string_view oci_type, ManifestFormat format);

}  // namespace strata::oci

#endif  // STRATA_LIB_OCI_MANIFEST_H_
