#include "services/imagegraph/core/graph_rules.h"

#include <algorithm>
#include <tuple>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "lib/base/errors.h"
#include "lib/digest/digest.h"
#include "lib/oci/chain_id.h"
#include "lib/oci/image_config.h"
#include "lib/oci/media_types.h"

namespace strata::imagegraph {
namespace {

constexpr absl::string_view kSha256Prefix = "sha256:";
constexpr char kDockerLayerGzip[] = "application/vnd.docker.image.rootfs.diff.tar.gzip";

absl::Status Invalid(absl::string_view what, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(what, ": ", problem));
}

// PostgreSQL text cannot hold NUL; say so instead of letting it truncate or fail.
absl::Status CheckNoNul(absl::string_view text, absl::string_view what) {
  if (text.find('\0') != absl::string_view::npos) {
    return Invalid(what, "contains a NUL character");
  }
  return absl::OkStatus();
}

// PostgreSQL's timestamps start in 4713 BC but ISO input rejects year 0; RFC 3339 stops at
// 9999. Keep to years 1..9999.
absl::Status CheckStorableTime(absl::Time time, absl::string_view what) {
  static const absl::Time kMin =
      absl::FromCivil(absl::CivilSecond(1, 1, 1, 0, 0, 0), absl::UTCTimeZone());
  static const absl::Time kMax =
      absl::FromCivil(absl::CivilSecond(10000, 1, 1, 0, 0, 0), absl::UTCTimeZone());
  if (time < kMin || time >= kMax) return Invalid(what, "is outside the years 1 to 9999");
  return absl::OkStatus();
}

absl::StatusOr<std::optional<absl::Time>> ParseOptionalTime(absl::string_view text,
                                                            absl::string_view what) {
  if (text.empty()) return std::optional<absl::Time>();
  absl::StatusOr<absl::Time> time = oci::ParseRfc3339(text);
  if (!time.ok()) return Invalid(what, time.status().message());
  RETURN_IF_ERROR(CheckStorableTime(*time, what));
  return std::optional<absl::Time>(*time);
}

bool HasExplicitTag(absl::string_view text) {
  absl::string_view name = text.substr(0, text.find('@'));
  const size_t slash = name.rfind('/');
  const size_t colon = name.rfind(':');
  return colon != absl::string_view::npos && (slash == absl::string_view::npos || colon > slash);
}

}  // namespace

std::string Quote(absl::string_view text) {
  constexpr size_t kMax = 200;
  std::string out = "\"";
  for (char c : text.substr(0, kMax)) {
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out.push_back(c);
    } else {
      absl::StrAppend(&out, "\\x", absl::Hex(static_cast<unsigned char>(c), absl::kZeroPad2));
    }
  }
  if (text.size() > kMax) out += "...";
  return out + "\"";
}

std::string ShortId(absl::string_view id) {
  absl::ConsumePrefix(&id, kSha256Prefix);
  return std::string(id.substr(0, 12));
}

absl::StatusOr<ImageRef> ParseImageRef(absl::string_view text) {
  if (text.empty()) return absl::InvalidArgumentError("image reference is empty");
  ImageRef ref;
  ref.text = std::string(text);
  absl::StatusOr<Reference> parsed = ParseReference(text);
  if (parsed.ok()) {
    if (!parsed->digest.empty()) {
      ref.repo_digest = *parsed;     // A manifest digest recorded by pull or push,
      ref.full_id = parsed->digest;  // else "repo@sha256:<id>" names the image by id.
    } else {
      ref.implied_tag = !HasExplicitTag(text);
      ref.tag = *std::move(parsed);
    }
  } else {
    ref.not_a_reference = std::string(parsed.status().message());
  }
  absl::string_view hex = text;
  absl::ConsumePrefix(&hex, kSha256Prefix);
  if (hex.size() == Digest::kHexLength && IsLowerHex(hex)) {
    ref.full_id = absl::StrCat(kSha256Prefix, hex);
  } else if (hex.size() >= kMinIdPrefix && IsLowerHex(hex)) {
    ref.prefix = std::string(hex);
  }
  return ref;
}

absl::StatusOr<Reference> ParseTagTarget(absl::string_view text) {
  ASSIGN_OR_RETURN(Reference reference, ParseReference(text));
  if (!reference.digest.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid reference ", Quote(text), ": a tag cannot carry a digest (\"@sha256:...\")"));
  }
  if (reference.name.size() == Digest::kHexLength && IsLowerHex(reference.name)) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid reference ", Quote(text),
                     ": repository name cannot be 64 hexadecimal digits (it reads as an image "
                     "id)"));
  }
  return reference;
}

absl::StatusOr<Reference> ParseRepoDigest(absl::string_view text) {
  ASSIGN_OR_RETURN(Reference reference, ParseReference(text));
  if (reference.digest.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("repository digest ", Quote(text), ": no digest (\"repo@sha256:<64 hex>\")"));
  }
  return reference;
}

absl::Status NormalizeBlobVariant(BlobVariant& variant) {
  LayerDescriptor descriptor;
  descriptor.digest = variant.digest;
  descriptor.diff_id = variant.diff_id;
  descriptor.media_type = variant.media_type;
  descriptor.size = variant.size;
  RETURN_IF_ERROR(NormalizeDescriptor(descriptor, "blob variant"));
  variant.media_type = descriptor.media_type;
  if (!variant.repository.empty()) {
    RETURN_IF_ERROR(ValidateRepositoryName(variant.repository));
    ASSIGN_OR_RETURN(Reference reference, ParseReference(variant.repository));
    variant.repository = reference.FullName();
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ParseFullId(absl::string_view text, absl::string_view what) {
  absl::string_view hex = text;
  absl::ConsumePrefix(&hex, kSha256Prefix);
  if (hex.size() != Digest::kHexLength || !IsLowerHex(hex)) {
    return Invalid(
        what, absl::StrCat(Quote(text), " is not a full image id (\"sha256:<64 lowercase hex>\")"));
  }
  return absl::StrCat(kSha256Prefix, hex);
}

absl::Status NormalizeDescriptor(LayerDescriptor& descriptor, absl::string_view what) {
  absl::StatusOr<Digest> digest = Digest::Parse(descriptor.digest);
  if (!digest.ok()) return Invalid(what, absl::StrCat("blob ", digest.status().message()));
  absl::StatusOr<Digest> diff_id = Digest::Parse(descriptor.diff_id);
  if (!diff_id.ok()) return Invalid(what, absl::StrCat("diff id: ", diff_id.status().message()));
  if (descriptor.media_type.empty()) descriptor.media_type = oci::kMediaTypeLayerZstd;
  const std::string& type = descriptor.media_type;
  if (type != oci::kMediaTypeLayerZstd && type != oci::kMediaTypeLayerGzip &&
      type != oci::kMediaTypeLayerTar && type != kDockerLayerGzip) {
    return Invalid(what, absl::StrCat("media type ", Quote(type), " is not a layer media type (",
                                      oci::kMediaTypeLayerTar, "[+gzip|+zstd])"));
  }
  if (descriptor.size < 0) return Invalid(what, "size is negative");
  if (descriptor.uncompressed_size < 0) return Invalid(what, "uncompressed size is negative");
  return absl::OkStatus();
}

absl::StatusOr<Layer> PrepareLayer(const Layer& input) {
  Layer layer = input;
  absl::StatusOr<Digest> chain_id = Digest::Parse(layer.chain_id);
  if (!chain_id.ok()) return Invalid("layer chain id", chain_id.status().message());
  const std::string what = absl::StrCat("layer ", layer.chain_id);
  Digest parent;
  if (!layer.parent_chain_id.empty()) {
    absl::StatusOr<Digest> parsed = Digest::Parse(layer.parent_chain_id);
    if (!parsed.ok()) return Invalid(what, absl::StrCat("parent ", parsed.status().message()));
    parent = *parsed;
  }
  RETURN_IF_ERROR(NormalizeDescriptor(layer.blob, what));
  const Digest expected = oci::ChainId(parent, *Digest::Parse(layer.blob.diff_id));
  if (expected != *chain_id) {
    return Invalid(what, absl::StrCat("chain id is not chain(parent, diff id) = ", expected.str()));
  }
  RETURN_IF_ERROR(CheckNoNul(layer.created_by, absl::StrCat(what, ": created_by")));
  RETURN_IF_ERROR(CheckNoNul(layer.author, absl::StrCat(what, ": author")));
  RETURN_IF_ERROR(CheckNoNul(layer.comment, absl::StrCat(what, ": comment")));
  if (layer.created) RETURN_IF_ERROR(CheckStorableTime(*layer.created, what + ": created"));
  return layer;
}

absl::StatusOr<PreparedImage> PrepareImage(const NewImage& image) {
  if (image.config.empty()) return absl::InvalidArgumentError("image config is empty");
  absl::StatusOr<oci::ImageConfig> config = oci::ImageConfig::Parse(image.config);
  if (!config.ok()) return config.status();

  PreparedImage out;
  out.config = image.config;
  out.id = Digest::Of(image.config).str();
  ASSIGN_OR_RETURN(out.created, ParseOptionalTime(config->created(), "image config: created"));

  const std::vector<Digest> diff_ids = config->diff_ids();
  if (diff_ids.size() != image.layers.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("image config: rootfs.diff_ids lists ", diff_ids.size(), " layers but ",
                     image.layers.size(), " layer descriptors were given"));
  }
  std::vector<LayerDescriptor> descriptors = image.layers;
  for (size_t i = 0; i < descriptors.size(); ++i) {
    const std::string what = absl::StrCat("layer ", i);
    RETURN_IF_ERROR(NormalizeDescriptor(descriptors[i], what));
    if (descriptors[i].diff_id != diff_ids[i].str()) {
      return Invalid(what, absl::StrCat("diff id ", descriptors[i].diff_id,
                                        " differs from the config's rootfs.diff_ids[", i, "] ",
                                        diff_ids[i].str()));
    }
  }

  // History: one step per layer (empty_layer false) plus config-only steps.
  const std::vector<oci::History> history = config->history();
  if (history.empty()) {
    for (size_t i = 0; i < descriptors.size(); ++i) {
      HistoryStep step;
      step.layer_index = static_cast<int>(i);
      out.history.push_back(step);
    }
  } else {
    const size_t layer_steps = std::count_if(history.begin(), history.end(),
                                             [](const oci::History& h) { return !h.empty_layer; });
    if (layer_steps != descriptors.size()) {
      return absl::InvalidArgumentError(absl::StrCat("image config: history has ", layer_steps,
                                                     " steps with a layer but rootfs.diff_ids "
                                                     "lists ",
                                                     descriptors.size(), " layers"));
    }
    int next_layer = 0;
    for (size_t i = 0; i < history.size(); ++i) {
      const std::string what = absl::StrCat("image config: history[", i, "]");
      HistoryStep step;
      ASSIGN_OR_RETURN(step.created, ParseOptionalTime(history[i].created, what + ".created"));
      step.created_by = history[i].created_by;
      step.author = history[i].author;
      step.comment = history[i].comment;
      RETURN_IF_ERROR(CheckNoNul(step.created_by, what + ".created_by"));
      RETURN_IF_ERROR(CheckNoNul(step.author, what + ".author"));
      RETURN_IF_ERROR(CheckNoNul(step.comment, what + ".comment"));
      step.empty_layer = history[i].empty_layer;
      step.layer_index = step.empty_layer ? -1 : next_layer++;
      out.history.push_back(std::move(step));
    }
  }

  const std::vector<Digest> chain_ids = oci::ChainIds(diff_ids);
  out.layers.resize(descriptors.size());
  for (size_t i = 0; i < descriptors.size(); ++i) {
    Layer& layer = out.layers[i];
    layer.chain_id = chain_ids[i].str();
    if (i > 0) layer.parent_chain_id = chain_ids[i - 1].str();
    layer.blob = descriptors[i];
    out.size += descriptors[i].uncompressed_size;
  }
  for (const HistoryStep& step : out.history) {
    if (step.layer_index < 0) continue;
    Layer& layer = out.layers[step.layer_index];
    layer.created_by = step.created_by;
    layer.created = step.created;
    layer.author = step.author;
    layer.comment = step.comment;
  }

  if (!image.parent_id.empty()) {
    ASSIGN_OR_RETURN(out.parent_id, ParseFullId(image.parent_id, "parent image id"));
    if (out.parent_id == out.id) {
      return absl::InvalidArgumentError(
          absl::StrCat("parent image id ", out.parent_id, ": an image cannot be its own parent"));
    }
  }

  for (const std::string& text : image.tags) {
    ASSIGN_OR_RETURN(Reference tag, ParseTagTarget(text));
    out.tags.push_back(std::move(tag));
  }
  auto key = [](const Reference& r) { return std::tie(r.name, r.tag); };
  std::sort(out.tags.begin(), out.tags.end(),
            [&](const Reference& a, const Reference& b) { return key(a) < key(b); });
  out.tags.erase(
      std::unique(out.tags.begin(), out.tags.end(),
                  [&](const Reference& a, const Reference& b) { return key(a) == key(b); }),
      out.tags.end());
  return out;
}

std::string EncodeImagePageToken(const ImagePageKey& key) {
  return absl::WebSafeBase64Escape(absl::StrCat(
      "images|", key.created_micros ? absl::StrCat(*key.created_micros) : "-", "|", key.id));
}

absl::StatusOr<ImagePageKey> DecodeImagePageToken(absl::string_view token) {
  auto invalid = [&]() {
    return absl::InvalidArgumentError(
        absl::StrCat("page token ", Quote(token), " is malformed (not from ListImages)"));
  };
  std::string raw;
  if (!absl::WebSafeBase64Unescape(token, &raw)) return invalid();
  std::vector<std::string> parts = absl::StrSplit(raw, '|');
  if (parts.size() != 3 || parts[0] != "images" || !Digest::Parse(parts[2]).ok()) {
    return invalid();
  }
  ImagePageKey key;
  key.id = parts[2];
  if (parts[1] != "-") {
    int64_t micros = 0;
    if (!absl::SimpleAtoi(parts[1], &micros)) return invalid();
    key.created_micros = micros;
  }
  return key;
}

std::string EncodeBlobPageToken(absl::string_view last_digest) {
  return absl::WebSafeBase64Escape(absl::StrCat("blobs|", last_digest));
}

absl::StatusOr<std::string> DecodeBlobPageToken(absl::string_view token) {
  std::string raw;
  absl::string_view rest;
  if (absl::WebSafeBase64Unescape(token, &raw)) {
    rest = raw;
    if (absl::ConsumePrefix(&rest, "blobs|") && Digest::Parse(rest).ok()) {
      return std::string(rest);
    }
  }
  return absl::InvalidArgumentError(
      absl::StrCat("page token ", Quote(token), " is malformed (not from ListReferencedBlobs)"));
}

int64_t ToMicros(absl::Time time) { return absl::ToUnixMicros(time); }
absl::Time FromMicros(int64_t micros) { return absl::FromUnixMicros(micros); }

}  // namespace strata::imagegraph
