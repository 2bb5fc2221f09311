#include "lib/oci/manifest.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "lib/oci/media_types.h"

namespace strata::oci {
namespace {

using nlohmann::json;

absl::Status Invalid(absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat("image manifest: ", problem));
}

}  // namespace

ManifestFormat Manifest::format() const {
  return media_type == kDockerManifest ? ManifestFormat::kDockerV2Schema2 : ManifestFormat::kOci;
}

std::string Manifest::Serialize() const {
  json out = json::object();
  out["schemaVersion"] = 2;
  out["mediaType"] = media_type;
  out["config"] = DescriptorToJson(config);
  json layer_list = json::array();
  for (const Descriptor& layer : layers) layer_list.push_back(DescriptorToJson(layer));
  out["layers"] = std::move(layer_list);
  if (!annotations.empty()) out["annotations"] = annotations;
  return out.dump();
}

absl::StatusOr<std::string> OciLayerMediaType(absl::string_view type) {
  if (type == kMediaTypeLayerTar || type == kMediaTypeLayerGzip || type == kMediaTypeLayerZstd) {
    return std::string(type);
  }
  if (type == kDockerLayerGzip) return std::string(kMediaTypeLayerGzip);
  if (type == kDockerLayerTar) return std::string(kMediaTypeLayerTar);
  if (type == kDockerLayerZstd) return std::string(kMediaTypeLayerZstd);
  if (absl::StartsWith(type, kMediaTypeLayerNondistributablePrefix) ||
      absl::StrContains(type, ".foreign.")) {
    return absl::InvalidArgumentError(absl::StrCat(
        "layer of media type ", type,
        " is non-distributable: registries do not serve it and Strata does not fetch it from "
        "its foreign URLs"));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("media type \"", type, "\" is not a layer media type"));
}

absl::StatusOr<std::string> LayerMediaTypeFor(absl::string_view oci_type, ManifestFormat format) {
  if (format == ManifestFormat::kOci) return std::string(oci_type);
  if (oci_type == kMediaTypeLayerGzip) return std::string(kDockerLayerGzip);
  if (oci_type == kMediaTypeLayerTar) return std::string(kDockerLayerTar);
  return absl::InvalidArgumentError(
      absl::StrCat("docker schema 2 has no layer media type for ", oci_type,
                   ": push with --compression-format gzip or in OCI format"));
}

absl::StatusOr<Manifest> ParseManifest(absl::string_view text, absl::string_view media_type) {
  json doc = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return Invalid("not a JSON object");
  if (doc.value("schemaVersion", 0) != 2) return Invalid("schemaVersion must be 2");
  Manifest manifest;
  manifest.media_type = std::string(media_type);
  if (auto type = doc.find("mediaType"); type != doc.end() && type->is_string()) {
    if (type->get<std::string>() != media_type) {
      return Invalid(absl::StrCat("mediaType ", type->get<std::string>(),
                                  " differs from the Content-Type ", media_type));
    }
  }
  auto config = doc.find("config");
  if (config == doc.end()) return Invalid("config is missing");
  auto parsed_config = DescriptorFromJson(*config, "image manifest config");
  if (!parsed_config.ok()) return parsed_config.status();
  manifest.config = *std::move(parsed_config);
  auto layers = doc.find("layers");
  if (layers == doc.end() || !layers->is_array()) return Invalid("layers must be a list");
  for (size_t i = 0; i < layers->size(); ++i) {
    auto layer = DescriptorFromJson((*layers)[i], absl::StrCat("image manifest layers[", i, "]"));
    if (!layer.ok()) return layer.status();
    manifest.layers.push_back(*std::move(layer));
  }
  if (auto notes = doc.find("annotations"); notes != doc.end() && notes->is_object()) {
    for (const auto& item : notes->items()) {
      if (item.value().is_string()) manifest.annotations[item.key()] = item.value();
    }
  }
  return manifest;
}

}  // namespace strata::oci
