#include "lib/oci/manifest_document.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "lib/oci/media_types.h"
#include "nlohmann/json.hpp"

namespace strata::oci {
namespace {

constexpr const char* kAccepted[] = {kMediaTypeImageIndex, kMediaTypeImageManifest,
                                     kDockerManifestList, kDockerManifest, nullptr};

}  // namespace

const char* const* AcceptedManifestTypes() { return kAccepted; }

absl::StatusOr<ManifestDocument> ParseManifestDocument(std::string bytes,
                                                       absl::string_view content_type,
                                                       const Digest& expected) {
  if (static_cast<int64_t>(bytes.size()) > kMaxManifestBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("manifest is ", bytes.size(), " bytes, more than the 4 MiB limit"));
  }
  ManifestDocument doc;
  doc.digest = Digest::Of(bytes);
  if (!expected.empty() && doc.digest != expected) {
    return absl::DataLossError(absl::StrCat("manifest verification failed for digest ",
                                            expected.str(), ": its content has digest ",
                                            doc.digest.str()));
  }
  std::string type(content_type.substr(0, content_type.find(';')));
  type = std::string(absl::StripAsciiWhitespace(type));
  nlohmann::json json =
      nlohmann::json::parse(bytes.begin(), bytes.end(), nullptr, /*allow_exceptions=*/false);
  if (json.is_object()) {
    const int schema = json.value("schemaVersion", 0);
    if (schema == 1) type = kDockerManifestSchema1;
    if (type.empty() || type == "application/json" || type == "text/plain" ||
        type == "application/octet-stream") {
      // An OCI document may leave mediaType out: "manifests" makes it an index.
      type = json.value(
          "mediaType", json.contains("manifests") ? kMediaTypeImageIndex : kMediaTypeImageManifest);
    }
  }
  if (type == kDockerManifestSchema1 || type == kDockerManifestSchema1Signed) {
    return absl::InvalidArgumentError(
        "this image uses docker image manifest v2 schema 1, which is deprecated and not "
        "supported: push it again with a current docker or podman");
  }
  doc.media_type = type;
  if (type == kMediaTypeImageManifest || type == kDockerManifest) {
    absl::StatusOr<Manifest> manifest = ParseManifest(bytes, type);
    if (!manifest.ok()) return manifest.status();
    doc.content = *std::move(manifest);
  } else if (type == kMediaTypeImageIndex || type == kDockerManifestList) {
    absl::StatusOr<ImageIndex> index = ParseImageIndex(bytes, type);
    if (!index.ok()) return index.status();
    doc.content = *std::move(index);
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("unsupported manifest media type \"", type, "\""));
  }
  doc.bytes = std::move(bytes);
  return doc;
}

}  // namespace strata::oci
