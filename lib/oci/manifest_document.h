#ifndef STRATA_LIB_OCI_MANIFEST_DOCUMENT_H_
#define STRATA_LIB_OCI_MANIFEST_DOCUMENT_H_

// A manifest as a registry serves it: bytes and a Content-Type, checked before anything reads
// it (size cap, digest, a known kind) and parsed into a Manifest or an ImageIndex.

#include <cstdint>
#include <string>
#include <variant>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "lib/digest/digest.h"
#include "lib/oci/image_index.h"
#include "lib/oci/manifest.h"

namespace strata::oci {

// Registries cap manifests at 4 MiB (distribution's default); so do we when reading.
inline constexpr int64_t kMaxManifestBytes = 4 << 20;

// The media types a manifest GET accepts, best first, for the Accept header.
const char* const* AcceptedManifestTypes();

struct ManifestDocument {
  // sha256 of the bytes: the manifest's digest.
  Digest digest;
  std::string media_type;
  std::string bytes;
  std::variant<Manifest, ImageIndex> content;

  bool is_index() const { return std::holds_alternative<ImageIndex>(content); }
};

// Checks and parses. `content_type` is the response's Content-Type (parameters ignored);
// when it is missing or generic, the document's own "mediaType" decides. `expected` is the
// digest the manifest was asked by (empty when asked by tag).
// Errors: DATA_LOSS when the bytes do not have the expected digest; INVALID_ARGUMENT when
// the document is over 4 MiB, is docker schema 1 ("...schema 1 ... is not supported"), or is
// not a manifest.
absl::StatusOr<ManifestDocument> ParseManifestDocument(std::string bytes,
                                                       absl::string_view content_type,
                                                       const Digest& expected);

}  // namespace strata::oci

#endif  // STRATA_LIB_OCI_MANIFEST_DOCUMENT_H_
