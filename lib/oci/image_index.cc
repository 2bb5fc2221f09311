#include "lib/oci/image_index.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace strata::oci {

using nlohmann::json;

std::string ImageIndex::Serialize() const {
  json out = json::object();
  out["schemaVersion"] = 2;
  out["mediaType"] = media_type;
  json list = json::array();
  for (const Descriptor& manifest : manifests) list.push_back(DescriptorToJson(manifest));
  out["manifests"] = std::move(list);
  return out.dump();
}

absl::StatusOr<ImageIndex> ParseImageIndex(absl::string_view text, absl::string_view media_type) {
  json doc = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return absl::InvalidArgumentError("image index: not a JSON object");
  if (doc.value("schemaVersion", 0) != 2) {
    return absl::InvalidArgumentError("image index: schemaVersion must be 2");
  }
  auto manifests = doc.find("manifests");
  if (manifests == doc.end() || !manifests->is_array()) {
    return absl::InvalidArgumentError("image index: manifests must be a list");
  }
  ImageIndex index;
  index.media_type = std::string(media_type);
  for (size_t i = 0; i < manifests->size(); ++i) {
    auto entry =
        DescriptorFromJson((*manifests)[i], absl::StrCat("image index manifests[", i, "]"));
    if (!entry.ok()) return entry.status();
    index.manifests.push_back(*std::move(entry));
  }
  return index;
}

absl::StatusOr<Descriptor> SelectPlatform(const ImageIndex& index, const Platform& wanted) {
  std::vector<std::string> offered;
  for (const Descriptor& entry : index.manifests) {
    if (!entry.platform) continue;
    // Attestation manifests (buildx) carry the platform unknown/unknown: never an image.
    if (entry.platform->os == "unknown") continue;
    if (PlatformMatches(wanted, *entry.platform)) return entry;
    offered.push_back(entry.platform->ToString());
  }
  return absl::NotFoundError(absl::StrCat(
      "no matching manifest for ", wanted.ToString(), " in the manifest list entries",
      offered.empty() ? " (none names a platform)"
                      : absl::StrCat(" (offered: ", absl::StrJoin(offered, ", "), ")")));
}

}  // namespace strata::oci
