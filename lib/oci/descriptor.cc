#include "lib/oci/descriptor.h"

#include "absl/strings/str_cat.h"

namespace strata::oci {
namespace {

using nlohmann::json;

absl::Status Invalid(absl::string_view where, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(where, ": ", problem));
}

}  // namespace

absl::StatusOr<Descriptor> DescriptorFromJson(const json& value, absl::string_view where) {
  if (!value.is_object()) return Invalid(where, "must be an object");
  Descriptor out;
  auto media_type = value.find("mediaType");
  if (media_type == value.end() || !media_type->is_string()) {
    return Invalid(where, "mediaType must be a string");
  }
  out.media_type = media_type->get<std::string>();
  auto digest = value.find("digest");
  if (digest == value.end() || !digest->is_string()) {
    return Invalid(where, "digest must be a string");
  }
  absl::StatusOr<Digest> parsed = Digest::Parse(digest->get<std::string>());
  if (!parsed.ok()) return Invalid(where, parsed.status().message());
  out.digest = *parsed;
  auto size = value.find("size");
  if (size == value.end() || !size->is_number_integer() || size->get<int64_t>() < 0) {
    return Invalid(where, "size must be a non-negative integer");
  }
  out.size = size->get<int64_t>();
  if (auto urls = value.find("urls"); urls != value.end() && !urls->is_null()) {
    if (!urls->is_array()) return Invalid(where, "urls must be a list of strings");
    for (const json& url : *urls) {
      if (!url.is_string()) return Invalid(where, "urls must be a list of strings");
      out.urls.push_back(url.get<std::string>());
    }
  }
  if (auto notes = value.find("annotations"); notes != value.end() && !notes->is_null()) {
    if (!notes->is_object()) return Invalid(where, "annotations must be an object of strings");
    for (const auto& item : notes->items()) {
      if (!item.value().is_string()) {
        return Invalid(where, "annotations must be an object of strings");
      }
      out.annotations[item.key()] = item.value().get<std::string>();
    }
  }
  if (auto platform = value.find("platform"); platform != value.end() && !platform->is_null()) {
    if (!platform->is_object()) return Invalid(where, "platform must be an object");
    Platform p;
    p.os = platform->value("os", "");
    p.architecture = platform->value("architecture", "");
    p.variant = platform->value("variant", "");
    out.platform = p;
  }
  return out;
}

json DescriptorToJson(const Descriptor& descriptor) {
  json out = json::object();
  out["mediaType"] = descriptor.media_type;
  out["digest"] = descriptor.digest.str();
  out["size"] = descriptor.size;
  if (!descriptor.urls.empty()) out["urls"] = descriptor.urls;
  if (!descriptor.annotations.empty()) out["annotations"] = descriptor.annotations;
  if (descriptor.platform) {
    json platform = {{"architecture", descriptor.platform->architecture},
                     {"os", descriptor.platform->os}};
    if (!descriptor.platform->variant.empty()) platform["variant"] = descriptor.platform->variant;
    out["platform"] = platform;
  }
  return out;
}

}  // namespace strata::oci
