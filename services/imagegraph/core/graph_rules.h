#ifndef STRATA_SERVICES_IMAGEGRAPH_CORE_GRAPH_RULES_H_
#define STRATA_SERVICES_IMAGEGRAPH_CORE_GRAPH_RULES_H_

// The rules of the image graph that need no database: validation of layers, images and
// references, derivation of chain ids and history steps from an image config, and page
// tokens. Every GraphStore implementation applies them before touching its storage.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "lib/reference/reference.h"
#include "services/imagegraph/core/graph_store.h"

namespace strata::imagegraph {

// Limits of the API.
inline constexpr int kDefaultImagePageSize = 1000;
inline constexpr int kMaxImagePageSize = 10000;
inline constexpr int kDefaultBlobPageSize = 10000;
inline constexpr int kMaxBlobPageSize = 10000;
inline constexpr size_t kMinIdPrefix = 4;

// text in double quotes, safe to put in a message: non-printable bytes, quotes and
// backslashes escaped as \xNN, cut after 200 bytes.
std::string Quote(absl::string_view text);

// The first 12 hex digits of an id (with or without "sha256:"), as docker shows ids.
std::string ShortId(absl::string_view id);

// How an image reference may be read; several readings can apply and are tried in order
// (tag, then full id, then prefix).
struct ImageRef {
  std::string text;
  // Set when text is "repo[:tag]" in docker's grammar (without digest).
  std::optional<Reference> tag;
  // True when text had no explicit tag (":latest" was implied).
  bool implied_tag = false;
  // Why text is not a tag reference (when it is not one and no other reading applies).
  std::string not_a_reference;
  // Set when text is "repo[:tag]@sha256:..." : a repository digest (see AddRepoDigest),
  // which is tried first; the digest is also read as a full id (full_id), as before.
  std::optional<Reference> repo_digest;
  // "sha256:<64 hex>" when text is a full id, with or without "sha256:", or "repo@sha256:...".
  std::string full_id;
  // Lowercase hex digits (4..63) when text, without an optional "sha256:", is an id prefix.
  std::string prefix;
};

// Reads a reference. Errors: INVALID_ARGUMENT (empty).
absl::StatusOr<ImageRef> ParseImageRef(absl::string_view text);

// A target of Tag / CreateImage tags: "repo[:tag]" in docker's grammar, no digest, and a
// repository that is not a 64-hex string (it would read as an image id).
// Errors: INVALID_ARGUMENT naming the rule that was broken.
absl::StatusOr<Reference> ParseTagTarget(absl::string_view text);

// A repository digest, "repo[:tag]@sha256:<64 hex>" (the tag is ignored, as docker does).
// Errors: INVALID_ARGUMENT (bad grammar, no digest).
absl::StatusOr<Reference> ParseRepoDigest(absl::string_view text);

// Blob variants: digests well-formed, a layer media type, size >= 0, and a repository that is
// empty or a full repository name (normalised to domain/path).
// Errors: INVALID_ARGUMENT naming what is wrong.
absl::Status NormalizeBlobVariant(BlobVariant& variant);

// A full image id: "sha256:<64 hex>" or "<64 hex>", normalized to the former.
// Errors: INVALID_ARGUMENT.
absl::StatusOr<std::string> ParseFullId(absl::string_view text, absl::string_view what);

// Checks a descriptor and fills in the default media type.
// Errors: INVALID_ARGUMENT naming `what` (e.g. "layer 3") and the field.
absl::Status NormalizeDescriptor(LayerDescriptor& descriptor, absl::string_view what);

// Checks a layer for PutLayer: descriptor, chain id = chain(parent, diff id), texts without
// NUL. Returns it normalized. Errors: INVALID_ARGUMENT.
absl::StatusOr<Layer> PrepareLayer(const Layer& layer);

// One history step of an image as the graph stores it.
struct HistoryStep {
  std::optional<absl::Time> created;
  std::string created_by;
  std::string author;
  std::string comment;
  bool empty_layer = false;
  // Index into PreparedImage::layers of the step's layer; -1 for an empty layer.
  int layer_index = -1;
};

// An image checked and derived from its config, ready to store.
struct PreparedImage {
  // "sha256:" + SHA-256 of config.
  std::string id;
  std::string config;
  std::optional<absl::Time> created;
  // Normalized full id or empty.
  std::string parent_id;
  // Bottom first, with chain ids, parents and the created_by/author/comment of the history
  // step that produced each.
  std::vector<Layer> layers;
  // Oldest first, as in the config. A config without history gets one step per layer.
  std::vector<HistoryStep> history;
  // Sorted, without duplicates.
  std::vector<Reference> tags;
  int64_t size = 0;
};

// Checks a CreateImage request and derives what the graph stores: config parses as an image
// config, its rootfs.diff_ids equal the layers' diff ids in order, the history's layer steps
// match the layers, descriptors, parent id and tags are well-formed.
// Errors: INVALID_ARGUMENT naming what is wrong.
absl::StatusOr<PreparedImage> PrepareImage(const NewImage& image);

// Keyset page tokens. An image page resumes after (created, id) of the last image shown.
struct ImagePageKey {
  // Microseconds since the epoch, or nullopt for images without "created".
  std::optional<int64_t> created_micros;
  std::string id;
};
std::string EncodeImagePageToken(const ImagePageKey& key);
// Errors: INVALID_ARGUMENT.
absl::StatusOr<ImagePageKey> DecodeImagePageToken(absl::string_view token);

// A blob page resumes after the last digest shown.
std::string EncodeBlobPageToken(absl::string_view last_digest);
// Errors: INVALID_ARGUMENT.
absl::StatusOr<std::string> DecodeBlobPageToken(absl::string_view token);

// Time <-> microseconds, the database's precision.
int64_t ToMicros(absl::Time time);
absl::Time FromMicros(int64_t micros);

}  // namespace strata::imagegraph

#endif  // STRATA_SERVICES_IMAGEGRAPH_CORE_GRAPH_RULES_H_
