// Gateway: load, as `docker load` — a docker-archive, an oci-archive or an OCI layout
// directory, in any outer compression. The archive streams once, its members in any order
// (manifest.json may come last): each layer goes into layerstore as it passes (its digest
// and diff id computed on the way; uncompressed layers are compressed to zstd, gzip and zstd
// ones kept as they are, ones layerstore has are not written again), small members wait in
// memory until the manifests say what they are. Only when every image checks out (every
// member a manifest names is there, every digest and every diff id matches) are the images
// recorded; otherwise the blobs this load added are removed again.

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "cli/core/gateway.h"
#include "cli/core/image_writer.h"
#include "cli/core/registry_access.h"
#include "lib/archive/archive_io.h"
#include "lib/archive/member_path.h"
#include "lib/archive/tar_stream.h"
#include "lib/base/errors.h"
#include "lib/base/random.h"
#include "lib/layer/compression.h"
#include "lib/layer/decompression.h"
#include "lib/oci/image_config.h"
#include "lib/oci/image_index.h"
#include "lib/oci/manifest.h"
#include "lib/oci/media_types.h"
#include "lib/oci/platform.h"
#include "lib/reference/reference.h"
#include "nlohmann/json.hpp"

namespace strata::gateway {
namespace {

using nlohmann::json;

// manifest.json, index.json, configs: real ones are kilobytes. A member claiming such a name
// with more is refused before it is read (a 10 GB sparse "manifest.json", say).
constexpr int64_t kMaxJsonMember = 4 << 20;
// Members that may be configs or manifests wait in memory, up to this much in all.
constexpr int64_t kMaxHeldMember = 4 << 20;
constexpr int64_t kMaxHeldTotal = 256 << 20;

struct Member {
  Digest raw_digest;
  int64_t size = 0;
  std::optional<std::string> bytes;                  // held in memory
  std::optional<types::v1::LayerDescriptor> stored;  // in layerstore
};

// Passes what is read through to a sink as well.
class TeeSource : public layer::ByteSource {
 public:
  TeeSource(layer::ByteSource* source, layer::ByteSink* sink) : source_(source), sink_(sink) {}
  absl::StatusOr<absl::string_view> Read() override {
    ASSIGN_OR_RETURN(absl::string_view chunk, source_->Read());
    if (sink_ != nullptr && !chunk.empty()) RETURN_IF_ERROR(sink_->Write(chunk));
    return chunk;
  }

 private:
  layer::ByteSource* source_;
  layer::ByteSink* sink_;
};

bool IsRootJson(const std::string& path) {
  return path.find('/') == std::string::npos &&
         (absl::EndsWith(path, ".json") || path == "repositories" || path == "oci-layout");
}

// "blobs/sha256/<hex>": the digest its name promises; empty for other names.
std::optional<Digest> NamedDigest(const std::string& path) {
  if (!absl::StartsWith(path, "blobs/sha256/")) return std::nullopt;
  absl::StatusOr<Digest> digest = Digest::FromHex(path.substr(13));
  if (!digest.ok() || digest->hex().size() != 64) return std::nullopt;
  return *digest;
}

std::string BlobPath(const Digest& digest) { return absl::StrCat("blobs/sha256/", digest.hex()); }

// One image the archive describes.
struct PendingImage {
  std::string config;
  Digest id;
  std::vector<std::string> layer_paths;
  std::vector<std::string> tags;  // as the archive names them
};

class Loader {
 public:
  Loader(Services& services, ProgressObserver* progress, std::string source)
      : services_(services), progress_(progress), source_(std::move(source)) {}
  ~Loader() {
    if (!recorded_) RemoveAdded();
  }

  absl::Status AddMember(const std::string& path, int64_t size, layer::ByteSource* contents);
  void AddLink(const std::string& path, const std::string& target) { links_[path] = target; }
  absl::StatusOr<gw::LoadResult> Finish();

 private:
  absl::StatusOr<const Member*> Find(const std::string& path, const std::string& named_by);
  absl::StatusOr<std::string> Held(const std::string& path, const std::string& named_by);
  // Streams a layer into layerstore.
  absl::StatusOr<types::v1::LayerDescriptor> StoreLayer(const std::string& path,
                                                        layer::ByteSource* contents,
                                                        Digest* raw_digest);
  absl::StatusOr<std::vector<PendingImage>> ReadDockerManifest();
  absl::StatusOr<std::vector<PendingImage>> ReadOciIndex();
  void Report(const std::string& action, const std::string& id, int64_t current = 0,
              int64_t total = 0) {
    gw::Progress report;
    report.set_action(action);
    report.set_id(id);
    report.set_current(current);
    report.set_total(total);
    progress_->OnProgress(report);
  }
  void RemoveAdded();

  Services& services_;
  ProgressObserver* progress_;
  std::string source_;
  std::map<std::string, Member> members_;
  std::map<std::string, std::string> links_;
  int64_t held_ = 0;
  std::vector<Digest> added_;  // blobs this load committed
  bool recorded_ = false;
  // Taken before the first layer is written, released once every image is recorded.
  std::unique_ptr<layerstore::LeaseHolder> lease_;
};

void Loader::RemoveAdded() {
  absl::StatusOr<layerstore::LayerstoreClient*> layerstore = services_.layerstore();
  if (!layerstore.ok()) return;
  for (const Digest& digest : added_) (void)(*layerstore)->Delete(digest);
}

absl::Status Loader::AddMember(const std::string& path, int64_t size, layer::ByteSource* contents) {
  if (members_.count(path) != 0) {
    return absl::InvalidArgumentError(absl::StrCat("archive member ", path, " appears twice"));
  }
  Member member;
  member.size = size;
  const bool json_name = IsRootJson(path);
  if (json_name && size > kMaxJsonMember) {
    return absl::InvalidArgumentError(
        absl::StrCat("archive member ", path, " is ", size,
                     " bytes, more than the 4 MiB a manifest or config may have (refused)"));
  }
  if (json_name || (size <= kMaxHeldMember && held_ + size <= kMaxHeldTotal)) {
    std::string bytes;
    bytes.reserve(static_cast<size_t>(size));
    for (;;) {
      ASSIGN_OR_RETURN(absl::string_view chunk, contents->Read());
      if (chunk.empty()) break;
      bytes.append(chunk.data(), chunk.size());
    }
    held_ += static_cast<int64_t>(bytes.size());
    member.raw_digest = Digest::Of(bytes);
    member.bytes = std::move(bytes);
  } else {
    ASSIGN_OR_RETURN(member.stored, StoreLayer(path, contents, &member.raw_digest));
  }
  if (std::optional<Digest> named = NamedDigest(path); named && *named != member.raw_digest) {
    return absl::DataLossError(absl::StrCat("archive member ", path, " has digest ",
                                            member.raw_digest.str(),
                                            ": the archive is damaged or was tampered with"));
  }
  members_.emplace(path, std::move(member));
  return absl::OkStatus();
}

absl::StatusOr<types::v1::LayerDescriptor> Loader::StoreLayer(const std::string& path,
                                                              layer::ByteSource* contents,
                                                              Digest* raw_digest) {
  ASSIGN_OR_RETURN(layerstore::LayerstoreClient * layerstore, services_.layerstore());
  std::string head;
  while (head.size() < 8) {
    ASSIGN_OR_RETURN(absl::string_view chunk, contents->Read());
    if (chunk.empty()) break;
    head.append(chunk.data(), chunk.size());
  }
  const layer::Compression compression = layer::DetectCompression(head);
  const bool keep =
      compression == layer::Compression::kGzip || compression == layer::Compression::kZstd;
  archive::PrefixedSource raw(std::move(head), contents);
  layer::HashingSource raw_hash(&raw);
  Report("Loading layer", path);

  // A blob named by its digest that layerstore already has is only read (for its diff id).
  std::optional<Digest> named = NamedDigest(path);
  const bool present = keep && named && layerstore->Stat(*named).ok();
  std::unique_ptr<layerstore::BlobWriter> writer;
  if (!present) {
    if (lease_ == nullptr) {
      ASSIGN_OR_RETURN(lease_, internal::TakeLease(services_));
    }
    ASSIGN_OR_RETURN(writer, layerstore->OpenWriter(absl::StrCat("load-", RandomHex(16)), {}, {},
                                                    lease_->id()));
  }
  auto abort = [&](absl::Status status) {
    if (writer != nullptr) writer->Abort();
    return Annotate(status, absl::StrCat("archive member ", path));
  };
  std::optional<internal::BlobSink> store;
  if (writer != nullptr) store.emplace(writer.get());
  layer::HashingSink stored_hash(store ? &*store : nullptr);
  std::unique_ptr<layer::ByteSink> compressor;
  // gzip and zstd layers are stored as they are (the tee); others are compressed to zstd.
  TeeSource tee(&raw_hash, keep && store ? &stored_hash : nullptr);
  std::unique_ptr<layer::ByteSource> tar = layer::NewDecompressingSource(compression, &tee);
  if (!keep) {
    absl::StatusOr<std::unique_ptr<layer::ByteSink>> made =
        layer::NewCompressingSink(layer::Compression::kZstd, &stored_hash, -1, 2);
    if (!made.ok()) return abort(made.status());
    compressor = *std::move(made);
  }
  Sha256 diff_id;
  uint64_t uncompressed = 0;
  int64_t reported = 0;
  for (;;) {
    absl::StatusOr<absl::string_view> chunk = tar->Read();
    if (!chunk.ok()) return abort(chunk.status());
    if (chunk->empty()) break;
    diff_id.Update(*chunk);
    uncompressed += chunk->size();
    if (compressor != nullptr) {
      absl::Status written = compressor->Write(*chunk);
      if (!written.ok()) return abort(written);
    }
    if (static_cast<int64_t>(raw_hash.size()) - reported >= (8 << 20)) {
      reported = static_cast<int64_t>(raw_hash.size());
      Report("Loading layer", path, reported);
    }
  }
  // Whatever the decoder left unread still counts for the member's digest.
  for (;;) {
    absl::StatusOr<absl::string_view> chunk = tee.Read();
    if (!chunk.ok()) return abort(chunk.status());
    if (chunk->empty()) break;
  }
  if (compressor != nullptr) {
    if (absl::Status closed = compressor->Close(); !closed.ok()) return abort(closed);
  }
  *raw_digest = raw_hash.Finish();
  types::v1::LayerDescriptor layer;
  layer.set_diff_id(diff_id.Finish().str());
  layer.set_uncompressed_size(static_cast<int64_t>(uncompressed));
  ASSIGN_OR_RETURN(std::string media_type,
                   layer::LayerMediaType(keep ? compression : layer::Compression::kZstd));
  layer.set_media_type(media_type);
  if (present) {
    layer.set_digest(named->str());
    layer.set_size(static_cast<int64_t>(raw_hash.size()));
    return layer;
  }
  const int64_t size = static_cast<int64_t>(stored_hash.size());
  const Digest digest = stored_hash.Finish();
  layer.set_digest(digest.str());
  layer.set_size(size);
  if (keep && digest != *raw_digest) return abort(absl::InternalError("stored bytes differ"));
  if (layerstore->Stat(digest).ok()) {
    writer->Abort();  // the same blob is there already: keep that one
    return layer;
  }
  ASSIGN_OR_RETURN(layerstore::CommitResult committed, writer->Commit());
  if (committed.digest != digest) {
    return absl::DataLossError(
        absl::StrCat("layerstore stored ", committed.digest.str(), ", expected ", digest.str()));
  }
  added_.push_back(digest);
  return layer;
}

absl::StatusOr<const Member*> Loader::Find(const std::string& raw_path,
                                           const std::string& named_by) {
  ASSIGN_OR_RETURN(std::string path, archive::CleanMemberPath(raw_path));
  for (int hops = 0; hops < 16; ++hops) {
    auto member = members_.find(path);
    if (member != members_.end()) return &member->second;
    auto link = links_.find(path);
    if (link == links_.end()) break;
    path = link->second;
  }
  return absl::InvalidArgumentError(
      absl::StrCat(named_by, " names ", raw_path, ", which the archive does not hold"));
}

absl::StatusOr<std::string> Loader::Held(const std::string& path, const std::string& named_by) {
  ASSIGN_OR_RETURN(const Member* member, Find(path, named_by));
  if (!member->bytes) {
    return absl::InvalidArgumentError(absl::StrCat(named_by, " names ", path,
                                                   " as a manifest or config, but it is ",
                                                   member->size, " bytes: too large for one"));
  }
  return *member->bytes;
}

absl::StatusOr<std::vector<PendingImage>> Loader::ReadDockerManifest() {
  json doc = json::parse(*members_["manifest.json"].bytes, nullptr, false);
  if (!doc.is_array()) {
    return absl::InvalidArgumentError("manifest.json: not a list of images");
  }
  std::vector<PendingImage> images;
  for (size_t i = 0; i < doc.size(); ++i) {
    const json& entry = doc[i];
    const std::string where = absl::StrCat("manifest.json[", i, "]");
    if (!entry.is_object() || !entry.contains("Config") || !entry["Config"].is_string() ||
        !entry.contains("Layers") || !entry["Layers"].is_array()) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": needs Config and Layers"));
    }
    PendingImage image;
    const std::string config_path = entry["Config"].get<std::string>();
    ASSIGN_OR_RETURN(image.config, Held(config_path, where));
    image.id = Digest::Of(image.config);
    for (const json& layer : entry["Layers"]) {
      if (!layer.is_string()) {
        return absl::InvalidArgumentError(absl::StrCat(where, ": Layers must be names"));
      }
      image.layer_paths.push_back(layer.get<std::string>());
    }
    if (entry.contains("RepoTags") && entry["RepoTags"].is_array()) {
      for (const json& tag : entry["RepoTags"]) {
        if (tag.is_string()) image.tags.push_back(tag.get<std::string>());
      }
    }
    images.push_back(std::move(image));
  }
  return images;
}

absl::StatusOr<std::vector<PendingImage>> Loader::ReadOciIndex() {
  if (members_.count("oci-layout") == 0) {
    return absl::InvalidArgumentError("index.json without oci-layout: not an OCI image layout");
  }
  json layout = json::parse(*members_["oci-layout"].bytes, nullptr, false);
  if (!layout.is_object() || !layout.contains("imageLayoutVersion")) {
    return absl::InvalidArgumentError("oci-layout: no imageLayoutVersion");
  }
  const std::string& index_bytes = *members_["index.json"].bytes;
  json index_doc = json::parse(index_bytes, nullptr, false);
  std::string index_type = oci::kMediaTypeImageIndex;
  if (index_doc.is_object() && index_doc.contains("mediaType") &&
      index_doc["mediaType"].is_string()) {
    index_type = index_doc["mediaType"].get<std::string>();
  }
  ASSIGN_OR_RETURN(oci::ImageIndex index, oci::ParseImageIndex(index_bytes, index_type));
  std::vector<PendingImage> images;
  for (size_t i = 0; i < index.manifests.size(); ++i) {
    oci::Descriptor entry = index.manifests[i];
    const std::string where = absl::StrCat("index.json manifests[", i, "]");
    // A name: containerd's full one, else ref.name when it is a reference, not a bare tag.
    std::string name;
    if (auto full = entry.annotations.find("io.containerd.image.name");
        full != entry.annotations.end()) {
      name = full->second;
    } else if (auto ref = entry.annotations.find("org.opencontainers.image.ref.name");
               ref != entry.annotations.end() &&
               (absl::StrContains(ref->second, ':') || absl::StrContains(ref->second, '/'))) {
      name = ref->second;
    }
    if (entry.media_type == oci::kMediaTypeImageIndex ||
        entry.media_type == oci::kDockerManifestList) {
      ASSIGN_OR_RETURN(std::string nested_bytes, Held(BlobPath(entry.digest), where));
      ASSIGN_OR_RETURN(oci::ImageIndex nested,
                       oci::ParseImageIndex(nested_bytes, entry.media_type));
      ASSIGN_OR_RETURN(entry, oci::SelectPlatform(nested, oci::HostPlatform()));
    }
    if (entry.media_type != oci::kMediaTypeImageManifest &&
        entry.media_type != oci::kDockerManifest) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": media type ", entry.media_type, " is not an image manifest"));
    }
    ASSIGN_OR_RETURN(std::string manifest_bytes, Held(BlobPath(entry.digest), where));
    if (static_cast<int64_t>(manifest_bytes.size()) != entry.size) {
      return absl::DataLossError(absl::StrCat(where, ": manifest ", entry.digest.str(), " is ",
                                              manifest_bytes.size(), " bytes, not ", entry.size));
    }
    ASSIGN_OR_RETURN(oci::Manifest manifest, oci::ParseManifest(manifest_bytes, entry.media_type));
    const std::string manifest_where = absl::StrCat("manifest ", entry.digest.str());
    PendingImage image;
    ASSIGN_OR_RETURN(image.config, Held(BlobPath(manifest.config.digest), manifest_where));
    image.id = manifest.config.digest;
    for (const oci::Descriptor& layer : manifest.layers) {
      ASSIGN_OR_RETURN(const Member* member, Find(BlobPath(layer.digest), manifest_where));
      if (member->size != layer.size) {
        return absl::DataLossError(absl::StrCat(manifest_where, ": layer ", layer.digest.str(),
                                                " is ", member->size, " bytes, not ", layer.size));
      }
      image.layer_paths.push_back(BlobPath(layer.digest));
    }
    if (!name.empty()) image.tags.push_back(name);
    images.push_back(std::move(image));
  }
  return images;
}

absl::StatusOr<gw::LoadResult> Loader::Finish() {
  std::vector<PendingImage> images;
  if (members_.count("manifest.json") != 0) {
    ASSIGN_OR_RETURN(images, ReadDockerManifest());
  } else if (members_.count("index.json") != 0) {
    ASSIGN_OR_RETURN(images, ReadOciIndex());
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat(source_,
                     " is neither a docker-archive (no manifest.json) nor an OCI archive (no "
                     "index.json and oci-layout): for a file system tarball use `strata import`"));
  }
  // Check everything before recording anything.
  struct Checked {
    const PendingImage* image;
    std::vector<types::v1::LayerDescriptor> layers;
    std::vector<std::string> tags;
    std::vector<std::string> diff_ids;
  };
  std::map<std::string, size_t> by_id;
  std::vector<Checked> checked;
  for (const PendingImage& image : images) {
    ASSIGN_OR_RETURN(oci::ImageConfig config, oci::ImageConfig::Parse(image.config));
    const std::vector<Digest> diff_ids = config.diff_ids();
    const std::string name = image.id.str();
    if (diff_ids.size() != image.layer_paths.size()) {
      return absl::InvalidArgumentError(absl::StrCat("image ", name, ": the manifest names ",
                                                     image.layer_paths.size(),
                                                     " layers, its config ", diff_ids.size()));
    }
    Checked entry{&image, {}, {}, {}};
    for (const Digest& diff_id : diff_ids) entry.diff_ids.push_back(diff_id.str());
    for (size_t i = 0; i < diff_ids.size(); ++i) {
      ASSIGN_OR_RETURN(const Member* found,
                       Find(image.layer_paths[i], absl::StrCat("the manifest of ", name)));
      Member* member = const_cast<Member*>(found);
      if (!member->stored) {
        layer::StringSource bytes(*member->bytes);
        Digest ignored;
        ASSIGN_OR_RETURN(member->stored, StoreLayer(image.layer_paths[i], &bytes, &ignored));
      }
      if (member->stored->diff_id() != diff_ids[i].str()) {
        return absl::DataLossError(absl::StrCat("image ", name, ": layer ", image.layer_paths[i],
                                                " has diff id ", member->stored->diff_id(),
                                                ", but its config names ", diff_ids[i].str()));
      }
      entry.layers.push_back(*member->stored);
    }
    for (const std::string& tag : image.tags) {
      ASSIGN_OR_RETURN(std::string normalized, internal::TargetTag(tag));
      entry.tags.push_back(normalized);
    }
    auto [it, inserted] = by_id.emplace(name, checked.size());
    if (inserted) {
      checked.push_back(std::move(entry));
    } else {
      for (std::string& tag : entry.tags) checked[it->second].tags.push_back(std::move(tag));
    }
  }
  // An image whose layers start with all of another's (in the same archive) was committed
  // from it, as far as history can tell: recorded after it, with it as parent, so that
  // `strata history` names the same steps it named before the save.
  std::vector<size_t> order(checked.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return checked[a].diff_ids.size() < checked[b].diff_ids.size();
  });
  auto parent_of = [&](const Checked& child) -> std::string {
    const Checked* best = nullptr;
    for (const Checked& other : checked) {
      if (other.diff_ids.size() >= child.diff_ids.size() ||
          (best != nullptr && best->diff_ids.size() >= other.diff_ids.size()) ||
          !std::equal(other.diff_ids.begin(), other.diff_ids.end(), child.diff_ids.begin())) {
        continue;
      }
      best = &other;
    }
    return best == nullptr ? "" : best->image->id.str();
  };
  if (lease_ != nullptr) RETURN_IF_ERROR(lease_->Check());
  recorded_ = true;
  gw::LoadResult result;
  std::vector<gw::LoadedImage> in_archive_order(checked.size());
  ASSIGN_OR_RETURN(ig::ImageGraph::Stub * graph, services_.imagegraph());
  for (size_t index : order) {
    const Checked& entry = checked[index];
    Report("Writing image", entry.image->id.str());
    ig::CreateImageRequest request;
    request.set_parent_id(parent_of(entry));
    request.set_config(entry.image->config);
    for (const auto& layer : entry.layers) *request.add_layers() = layer;
    for (const std::string& tag : entry.tags) request.add_tags(tag);
    ig::CreateImageResponse response;
    grpc::Status status = graph->CreateImage(Services::Unary().get(), request, &response);
    if (!status.ok()) return services_.ImagegraphError(status);
    gw::LoadedImage& loaded = in_archive_order[index];
    loaded.set_id(response.image().id());
    for (const std::string& tag : entry.tags) loaded.add_tags(tag);
  }
  for (gw::LoadedImage& loaded : in_archive_order) *result.add_images() = std::move(loaded);
  if (lease_ != nullptr) (void)lease_->Release();
  return result;
}

}  // namespace

absl::StatusOr<gw::LoadResult> Gateway::Load(const gw::LoadOptions& options,
                                             layer::ByteSource* archive_bytes,
                                             ProgressObserver* progress) {
  const std::string source =
      options.source().empty() || options.source() == "-" ? "standard input" : options.source();
  Loader loader(services_, progress, source);
  layer::Compression outer;
  ASSIGN_OR_RETURN(std::unique_ptr<layer::ByteSource> tar,
                   archive::OpenDecompressed(archive_bytes, &outer));
  archive::TarStreamReader reader(tar.get());
  for (;;) {
    absl::StatusOr<std::optional<archive::TarMember>> next = reader.Next();
    if (!next.ok()) return Annotate(next.status(), source);
    if (!next->has_value()) break;
    const archive::TarMember& member = **next;
    if (member.type == archive::TarMember::Type::kDirectory ||
        member.type == archive::TarMember::Type::kOther) {
      continue;
    }
    absl::StatusOr<std::string> path = archive::CleanMemberPath(member.path);
    if (!path.ok()) return Annotate(path.status(), source);
    if (member.type == archive::TarMember::Type::kFile) {
      absl::Status added = loader.AddMember(*path, member.size, reader.contents());
      if (!added.ok()) return Annotate(added, source);
      continue;
    }
    // Links: docker's older archives link a layer shared by two images.
    absl::StatusOr<std::string> target = member.type == archive::TarMember::Type::kSymlink
                                             ? archive::ResolveMemberLink(*path, member.link)
                                             : archive::CleanMemberPath(member.link);
    if (!target.ok()) return Annotate(target.status(), source);
    loader.AddLink(*path, *target);
  }
  absl::StatusOr<gw::LoadResult> result = loader.Finish();
  if (!result.ok()) return Annotate(result.status(), source);
  return result;
}

absl::StatusOr<gw::LoadResult> Gateway::LoadDirectory(const std::string& directory,
                                                      ProgressObserver* progress) {
  Loader loader(services_, progress, directory);
  RETURN_IF_ERROR(archive::ReadLayoutDirectory(
      directory, [&](const std::string& path, int64_t size, layer::ByteSource* contents) {
        return loader.AddMember(path, size, contents);
      }));
  absl::StatusOr<gw::LoadResult> result = loader.Finish();
  if (!result.ok()) return Annotate(result.status(), directory);
  return result;
}

}  // namespace strata::gateway
