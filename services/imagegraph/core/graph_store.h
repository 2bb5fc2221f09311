#ifndef STRATA_SERVICES_IMAGEGRAPH_CORE_GRAPH_STORE_H_
#define STRATA_SERVICES_IMAGEGRAPH_CORE_GRAPH_STORE_H_

// The image graph's core API, free of gRPC: plain structs in, absl::Status / StatusOr out.
// ImageGraphService (the gRPC adapter) converts protos to these structs and back; a
// GraphStore implementation (PostgresGraphStore) keeps the graph.
//
// Vocabulary: a layer is named by its chain id and knows its parent layer; an image is named
// by the SHA-256 of its config JSON ("sha256:<64 hex>") and knows its ordered layers and its
// parent image; a tag ("repo:tag") names an image. Image references ("refs") are resolved in
// this order: "repo[:tag]" (tag defaults to latest) when that tag exists; a full id with or
// without "sha256:" (also "repo@sha256:<id>"); a unique id prefix of at least 4 hex digits.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace strata::imagegraph {

// One layer blob and what is inside it (OCI descriptor terms).
struct LayerDescriptor {
  // "sha256:<hex>" of the blob as stored in layerstore.
  std::string digest;
  // "sha256:<hex>" of the uncompressed tar.
  std::string diff_id;
  // One of the OCI layer media types; empty means the default (tar+zstd).
  std::string media_type;
  int64_t size = 0;
  int64_t uncompressed_size = 0;
};

// A node of the layer graph.
struct Layer {
  std::string chain_id;
  // Empty for a base layer.
  std::string parent_chain_id;
  LayerDescriptor blob;
  // The history step that first produced the layer.
  std::string created_by;
  std::optional<absl::Time> created;
  std::string author;
  std::string comment;
};

// An image as stored, with what the graph knows about it.
struct Image {
  std::string id;
  // The config JSON, byte for byte.
  std::string config;
  // Bottom first, with the chain id of each.
  std::vector<LayerDescriptor> layers;
  std::vector<std::string> chain_ids;
  // Empty for an image without parent.
  std::string parent_id;
  // "repo:tag", sorted.
  std::vector<std::string> tags;
  // "created" of the config, when it has one.
  std::optional<absl::Time> created;
  // Sum of the layers' uncompressed sizes.
  int64_t size = 0;
  int32_t child_count = 0;
  // "repo@sha256:<manifest digest>" (docker's RepoDigests), familiar names, sorted.
  std::vector<std::string> repo_digests;
  // When a tag last came to point at the image (docker's Metadata.LastTagTime); unset
  // while it has no tag.
  std::optional<absl::Time> last_tagged;
};

// What CreateImage is given.
struct NewImage {
  std::string config;
  std::vector<LayerDescriptor> layers;
  // Full id ("sha256:<hex>" or "<64 hex>"), or empty.
  std::string parent_id;
  // "repo[:tag]" references to point at the image.
  std::vector<std::string> tags;
  // "repo@sha256:<manifest digest>" to record with it.
  std::vector<std::string> repo_digests;
};

// A blob that holds a layer's content in some compression: kept in layerstore (repository
// empty) or held by a registry repository (its full name, "localhost:5000/team/app").
struct BlobVariant {
  std::string diff_id;
  std::string digest;
  std::string media_type;
  int64_t size = 0;
  std::string repository;
};

struct PutLayerResult {
  Layer layer;
  bool already_existed = false;
};

struct CreateImageResult {
  Image image;
  bool already_existed = false;
};

struct ListImagesOptions {
  // Only images tagged in this repository.
  std::string repository;
  // true: only untagged images without children; false: only tagged images.
  std::optional<bool> dangling;
  // Also untagged images with children (intermediate images).
  bool all = false;
  // 1..10000; 0 means the default (1000).
  int page_size = 0;
  std::string page_token;
};

struct ImagePage {
  std::vector<Image> images;
  // Empty on the last page.
  std::string next_page_token;
};

struct TagResult {
  // "repo:tag".
  std::string reference;
  std::string image_id;
  // The image the tag pointed at before, when it moved; else empty.
  std::string previous_image_id;
};

struct UntagResult {
  std::string reference;
  std::string image_id;
};

struct DeleteImageOptions {
  // Remove every tag of an image named by id (never overrides child images).
  bool force = false;
  // Keep untagged parents left without children.
  bool no_prune = false;
};

struct DeleteImageResult {
  // "repo:tag" references removed, in the order they were removed.
  std::vector<std::string> untagged;
  // Image ids removed, the named image first, then pruned parents.
  std::vector<std::string> deleted;
  // With force: the holders that kept the named image (it lost its tags but stays).
  std::vector<std::string> held_by;
};

// Something that uses an image, typically a container: while it holds the image, the image
// is never deleted (DeleteImage refuses, or with force only untags) nor pruned.
struct Hold {
  // Who holds: a container id, say. Unique: one holder holds one image.
  std::string holder;
  std::string image_id;
  // Where the holder lives (a runtime node's address), for clean-ups; may be empty.
  std::string node;
  std::optional<absl::Time> created;
};

// One step of `docker history`.
struct HistoryEntry {
  // The image this step produced when it is an image here; empty ("<missing>") otherwise.
  std::string image_id;
  std::optional<absl::Time> created;
  std::string created_by;
  std::string author;
  std::string comment;
  // Uncompressed size of the step's layer; 0 for an empty layer.
  int64_t size = 0;
  bool empty_layer = false;
  // Tags of image_id, sorted.
  std::vector<std::string> tags;
};

struct BlobPage {
  // Sorted.
  std::vector<std::string> digests;
  std::string next_page_token;
};

// The graph of layers, images and tags. Implementations are thread-safe and keep no state
// that a second replica sharing the same database would need.
//
// Error codes common to every method: UNAVAILABLE (the database cannot be reached; retry
// later), ABORTED (a concurrent change kept winning; retry), FAILED_PRECONDITION (the
// database holds a newer schema than this binary knows), INTERNAL (anything unexpected; the
// message holds the database's).
class GraphStore {
 public:
  virtual ~GraphStore() = default;

  // Registers a layer; the same chain id again returns the stored record (already_existed).
  // Errors: INVALID_ARGUMENT (malformed digest, unknown media type, negative size, chain id
  // not chain(parent, diff_id)), FAILED_PRECONDITION (the parent layer is not registered).
  virtual absl::StatusOr<PutLayerResult> PutLayer(const Layer& layer) = 0;

  // Errors: INVALID_ARGUMENT (malformed chain id), NOT_FOUND.
  virtual absl::StatusOr<Layer> GetLayer(absl::string_view chain_id) = 0;

  // Registers an image, its layers, its parent link and its tags in one transaction.
  // Idempotent by id: the same config bytes again give the same image (already_existed, the
  // tags asked for are moved to it; the stored parent and layers stay). Layers are idempotent
  // by chain id: a chain id already registered keeps its stored descriptor.
  // Errors: INVALID_ARGUMENT (config is not an image config, its rootfs.diff_ids differ from
  // the layers' diff ids, malformed descriptor, parent id or tag), NOT_FOUND (parent image).
  virtual absl::StatusOr<CreateImageResult> CreateImage(const NewImage& image) = 0;

  // Resolves a reference. Errors: INVALID_ARGUMENT (empty), FAILED_PRECONDITION (ambiguous
  // id prefix: the message names the candidates), NOT_FOUND (the message names the ref).
  virtual absl::StatusOr<Image> GetImage(absl::string_view ref) = 0;

  // Pages through images, newest first ("created" descending, then id).
  // Errors: INVALID_ARGUMENT (malformed repository, page size or page token).
  virtual absl::StatusOr<ImagePage> ListImages(const ListImagesOptions& options) = 0;

  // Points target ("repo[:tag]") at the image named by image_ref, moving it atomically.
  // Errors: INVALID_ARGUMENT (target breaks the reference grammar: the rule it broke), and
  // those of GetImage for image_ref.
  virtual absl::StatusOr<TagResult> Tag(absl::string_view image_ref, absl::string_view target) = 0;

  // Removes one tag. Errors: INVALID_ARGUMENT (malformed reference), NOT_FOUND (no such tag).
  virtual absl::StatusOr<UntagResult> Untag(absl::string_view reference) = 0;

  // `docker rmi`. An image that would be removed but is held stays: without force the call
  // fails and changes nothing; with force its tags are removed and held_by names who keeps
  // it. Held parents are never pruned.
  // Errors: those of GetImage, FAILED_PRECONDITION (child images; several tags without force;
  // held, without force: the message names the holders).
  virtual absl::StatusOr<DeleteImageResult> DeleteImage(absl::string_view ref,
                                                        const DeleteImageOptions& options) = 0;

  // The image's history, newest first. Errors: those of GetImage.
  virtual absl::StatusOr<std::vector<HistoryEntry>> History(absl::string_view ref) = 0;

  // Images whose parent is the image, newest first. Errors: those of GetImage.
  virtual absl::StatusOr<std::vector<Image>> ListChildren(absl::string_view ref) = 0;

  // Records that holder uses the image named by image_ref (see Hold). Holding the same image
  // again is not an error.
  // Errors: INVALID_ARGUMENT (empty holder, or longer than 256 bytes; node longer than 256
  // bytes), ALREADY_EXISTS (the holder holds another image), those of GetImage.
  virtual absl::StatusOr<Hold> HoldImage(absl::string_view image_ref, absl::string_view holder,
                                         absl::string_view node) = 0;

  // Drops holder's hold; true when it held something. Releasing nothing is not an error.
  // Errors: INVALID_ARGUMENT (empty holder).
  virtual absl::StatusOr<bool> ReleaseImage(absl::string_view holder) = 0;

  // The holds on the image named by image_ref, or every hold when it is empty, by holder.
  // Errors: those of GetImage.
  virtual absl::StatusOr<std::vector<Hold>> ListHolds(absl::string_view image_ref) = 0;

  // Digests of every blob the graph still refers to, sorted and paged: the blob of every
  // registered layer (DeleteImage removes the layers no image uses any more) and every image's
  // config (its id), in case the config was stored as a blob too. page_size 0 means 10000.
  // Errors: INVALID_ARGUMENT (malformed page size or token).
  virtual absl::StatusOr<BlobPage> ListReferencedBlobs(int page_size,
                                                       absl::string_view page_token) = 0;

  // Records "repo@sha256:<manifest digest>" as a name of the image named by image_ref (moved
  // to it when it named another); returns the familiar form stored.
  // Errors: INVALID_ARGUMENT (not a repository with a digest), those of GetImage.
  virtual absl::StatusOr<std::string> AddRepoDigest(absl::string_view image_ref,
                                                    absl::string_view repo_digest) = 0;

  // Records a blob variant (see BlobVariant); the same digest and repository again updates it.
  // Errors: INVALID_ARGUMENT (malformed digests, media type, negative size, bad repository).
  virtual absl::Status PutBlobVariant(const BlobVariant& variant) = 0;

  // The variants with this diff id and/or this digest (empty: any), newest first, at most 100.
  // Errors: INVALID_ARGUMENT (both empty, or malformed).
  virtual absl::StatusOr<std::vector<BlobVariant>> ListBlobVariants(absl::string_view diff_id,
                                                                    absl::string_view digest) = 0;
};

}  // namespace strata::imagegraph

#endif  // STRATA_SERVICES_IMAGEGRAPH_CORE_GRAPH_STORE_H_
