// Gateway: save, as `docker save` — images into a docker-archive or an OCI image layout (a
// tar, or a directory), streamed member by member: layers straight from layerstore
// (decompressed for docker-archive, their diff ids checked on the way; for OCI in the
// compression asked, made once through layer_variants), each layer shared by several images
// written once.

#include <map>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "cli/core/gateway.h"
#include "cli/core/layer_variants.h"
#include "cli/core/registry_access.h"
#include "lib/archive/archive_io.h"
#include "lib/base/errors.h"
#include "lib/layer/compression.h"
#include "lib/layer/decompression.h"
#include "lib/layer/read_ahead.h"
#include "lib/oci/image_index.h"
#include "lib/oci/manifest.h"
#include "lib/oci/media_types.h"
#include "lib/reference/reference.h"
#include "nlohmann/json.hpp"

namespace strata::gateway {
namespace {

using nlohmann::json;

// An image to save and the names it goes by in the archive.
struct SavedImage {
  ig::Image image;
  std::vector<Reference> names;
};

// Resolves the arguments; an image named twice is saved once with every name.
absl::StatusOr<std::vector<SavedImage>> Resolve(Gateway& gateway, const gw::SaveRequest& request) {
  if (request.images().empty()) {
    return absl::InvalidArgumentError("\"save\" requires at least 1 argument (IMAGE...)");
  }
  std::vector<SavedImage> out;
  std::map<std::string, size_t> by_id;
  for (const std::string& arg : request.images()) {
    ASSIGN_OR_RETURN(ig::Image image, gateway.InspectImage(arg));
    const std::string hex = image.id().substr(7);
    const std::string bare = absl::StartsWith(arg, "sha256:") ? arg.substr(7) : arg;
    const bool by_image_id = IsLowerHex(bare) && absl::StartsWith(hex, bare);
    auto [it, inserted] = by_id.emplace(image.id(), out.size());
    if (inserted) out.push_back({image, {}});
    if (by_image_id) continue;
    absl::StatusOr<Reference> reference = ParseReference(arg);
    if (!reference.ok() || !reference->digest.empty()) continue;  // by digest: no name
    std::vector<Reference>& names = out[it->second].names;
    bool seen = false;
    for (const Reference& name : names) seen |= name.ToString() == reference->ToString();
    if (!seen) names.push_back(*reference);
  }
  return out;
}

void Report(ProgressObserver* progress, const std::string& action, const std::string& id,
            int64_t current = 0, int64_t total = 0) {
  gw::Progress report;
  report.set_action(action);
  report.set_id(id);
  report.set_current(current);
  report.set_total(total);
  progress->OnProgress(report);
}

// Counts what passes for progress.
class CountingSource : public layer::ByteSource {
 public:
  CountingSource(layer::ByteSource* source, ProgressObserver* progress, std::string id,
                 int64_t total)
      : source_(source), progress_(progress), id_(std::move(id)), total_(total) {}
  absl::StatusOr<absl::string_view> Read() override {
    ASSIGN_OR_RETURN(absl::string_view chunk, source_->Read());
    done_ += static_cast<int64_t>(chunk.size());
    if (done_ - reported_ >= (8 << 20) || (chunk.empty() && done_ != reported_)) {
      reported_ = done_;
      Report(progress_, "Saving", id_, done_, total_);
    }
    return chunk;
  }

 private:
  layer::ByteSource* source_;
  ProgressObserver* progress_;
  std::string id_;
  int64_t total_;
  int64_t done_ = 0;
  int64_t reported_ = 0;
};

// A layer's uncompressed tar into the archive, its diff id checked.
absl::Status WriteUncompressedLayer(Services& services, const types::v1::LayerDescriptor& layer,
                                    const std::string& path, archive::ArchiveWriter& out,
                                    ProgressObserver* progress) {
  ASSIGN_OR_RETURN(layerstore::LayerstoreClient * layerstore, services.layerstore());
  ASSIGN_OR_RETURN(Digest digest, Digest::Parse(layer.digest()));
  ASSIGN_OR_RETURN(layer::Compression compression,
                   layer::CompressionOfMediaType(layer.media_type()));
  if (layer.uncompressed_size() <= 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("layer ", layer.digest(), " has no recorded uncompressed size"));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<layerstore::BlobReader> reader, layerstore->OpenReader(digest));
  internal::BlobSource blob(std::move(reader));
  std::unique_ptr<layer::ByteSource> tar = layer::NewDecompressingSource(compression, &blob);
  // Receiving and decompressing on one core, hashing and writing on the other.
  layer::ReadAheadSource ahead(tar.get());
  layer::HashingSource hashed(&ahead);
  CountingSource counted(&hashed, progress, internal::ShortDigest(layer.diff_id()),
                         layer.uncompressed_size());
  RETURN_IF_ERROR(out.AddFile(path, layer.uncompressed_size(), &counted));
  const Digest diff_id = hashed.Finish();
  if (diff_id.str() != layer.diff_id()) {
    return absl::DataLossError(absl::StrCat("layer ", layer.digest(), " has diff id ",
                                            diff_id.str(), ", not ", layer.diff_id(),
                                            ": run `strata system check`"));
  }
  return absl::OkStatus();
}

// A layerstore blob as it is into the archive, its digest checked.
absl::Status WriteBlob(Services& services, const types::v1::LayerDescriptor& layer,
                       const std::string& path, archive::ArchiveWriter& out,
                       ProgressObserver* progress) {
  ASSIGN_OR_RETURN(layerstore::LayerstoreClient * layerstore, services.layerstore());
  ASSIGN_OR_RETURN(Digest digest, Digest::Parse(layer.digest()));
  ASSIGN_OR_RETURN(std::unique_ptr<layerstore::BlobReader> reader, layerstore->OpenReader(digest));
  internal::BlobSource blob(std::move(reader));
  layer::ReadAheadSource ahead(&blob);
  layer::HashingSource hashed(&ahead);
  CountingSource counted(&hashed, progress, internal::ShortDigest(layer.digest()), layer.size());
  RETURN_IF_ERROR(out.AddFile(path, layer.size(), &counted));
  if (hashed.Finish() != digest) {
    return absl::DataLossError(absl::StrCat(
        "blob ", layer.digest(), " does not match its digest: run `strata system check`"));
  }
  return absl::OkStatus();
}

absl::Status SaveDockerArchive(Services& services, const std::vector<SavedImage>& images,
                               archive::ArchiveWriter& out, ProgressObserver* progress) {
  json manifest = json::array();
  json repositories = json::object();
  std::set<std::string> written;
  for (const SavedImage& saved : images) {
    const ig::Image& image = saved.image;
    const std::string config_path = absl::StrCat(image.id().substr(7), ".json");
    RETURN_IF_ERROR(out.AddFile(config_path, image.config()));
    json entry = json::object();
    entry["Config"] = config_path;
    json tags = json::array();
    for (const Reference& name : saved.names) tags.push_back(name.ToString());
    entry["RepoTags"] = saved.names.empty() ? json(nullptr) : tags;
    json layers = json::array();
    std::string top;
    for (const types::v1::LayerDescriptor& layer : image.layers()) {
      ASSIGN_OR_RETURN(Digest diff_id, Digest::Parse(layer.diff_id()));
      top = std::string(diff_id.hex());
      const std::string path = absl::StrCat(top, "/layer.tar");
      layers.push_back(path);
      if (!written.insert(path).second) continue;
      RETURN_IF_ERROR(WriteUncompressedLayer(services, layer, path, out, progress));
    }
    entry["Layers"] = std::move(layers);
    manifest.push_back(std::move(entry));
    for (const Reference& name : saved.names) {
      repositories[name.ToString().substr(0, name.ToString().size() - name.tag.size() - 1)]
                  [name.tag] = top;
    }
  }
  RETURN_IF_ERROR(out.AddFile("manifest.json", manifest.dump()));
  if (!repositories.empty()) RETURN_IF_ERROR(out.AddFile("repositories", repositories.dump()));
  return out.Finish();
}

absl::Status SaveOciLayout(Services& services, const std::vector<SavedImage>& images,
                           layer::Compression compression, archive::ArchiveWriter& out,
                           ProgressObserver* progress) {
  RETURN_IF_ERROR(out.AddFile("oci-layout", R"({"imageLayoutVersion":"1.0.0"})"));
  oci::ImageIndex index;
  index.media_type = oci::kMediaTypeImageIndex;
  std::set<std::string> written;
  auto blob_path = [](const Digest& digest) { return absl::StrCat("blobs/sha256/", digest.hex()); };
  for (const SavedImage& saved : images) {
    const ig::Image& image = saved.image;
    oci::Manifest manifest;
    manifest.media_type = oci::kMediaTypeImageManifest;
    manifest.config.media_type = oci::kMediaTypeImageConfig;
    manifest.config.digest = Digest::Of(image.config());
    manifest.config.size = static_cast<int64_t>(image.config().size());
    for (const types::v1::LayerDescriptor& stored : image.layers()) {
      Report(progress, "Preparing", internal::ShortDigest(stored.digest()));
      ASSIGN_OR_RETURN(types::v1::LayerDescriptor layer,
                       internal::LayerInCompression(services, stored, compression));
      oci::Descriptor descriptor;
      ASSIGN_OR_RETURN(descriptor.media_type, oci::OciLayerMediaType(layer.media_type()));
      ASSIGN_OR_RETURN(descriptor.digest, Digest::Parse(layer.digest()));
      descriptor.size = layer.size();
      const std::string path = blob_path(descriptor.digest);
      if (written.insert(path).second) {
        RETURN_IF_ERROR(WriteBlob(services, layer, path, out, progress));
      }
      manifest.layers.push_back(std::move(descriptor));
    }
    const std::string config_path = blob_path(manifest.config.digest);
    if (written.insert(config_path).second) {
      RETURN_IF_ERROR(out.AddFile(config_path, image.config()));
    }
    const std::string bytes = manifest.Serialize();
    oci::Descriptor entry;
    entry.media_type = oci::kMediaTypeImageManifest;
    entry.digest = Digest::Of(bytes);
    entry.size = static_cast<int64_t>(bytes.size());
    if (written.insert(blob_path(entry.digest)).second) {
      RETURN_IF_ERROR(out.AddFile(blob_path(entry.digest), bytes));
    }
    if (saved.names.empty()) index.manifests.push_back(entry);
    for (const Reference& name : saved.names) {
      oci::Descriptor named = entry;
      // As docker 25 writes them: the tag for OCI tools (skopeo oci:DIR:TAG, umoci
      // --image DIR:TAG), the full name for containerd, docker and strata.
      named.annotations["io.containerd.image.name"] = name.FullString();
      named.annotations["org.opencontainers.image.ref.name"] = name.tag;
      index.manifests.push_back(std::move(named));
    }
  }
  RETURN_IF_ERROR(out.AddFile("index.json", index.Serialize()));
  return out.Finish();
}

absl::StatusOr<layer::Compression> OciCompression(types::v1::Compression compression) {
  switch (compression) {
    case types::v1::COMPRESSION_DEFAULT:
    case types::v1::COMPRESSION_GZIP:
      return layer::Compression::kGzip;
    case types::v1::COMPRESSION_ZSTD:
      return layer::Compression::kZstd;
    case types::v1::COMPRESSION_NONE:
      return layer::Compression::kNone;
    default:
      return absl::InvalidArgumentError(absl::StrCat("unknown compression ", compression));
  }
}

absl::Status SaveInto(Gateway& gateway, const gw::SaveRequest& request, archive::ArchiveWriter& out,
                      bool directory, ProgressObserver* progress) {
  const std::string& format = request.format();
  const bool docker = format.empty() || format == "docker-archive";
  if (!docker && format != "oci-archive" && format != "oci-dir") {
    return absl::InvalidArgumentError(absl::StrCat("unknown archive format \"", format,
                                                   "\": docker-archive, oci-archive or oci-dir"));
  }
  if ((format == "oci-dir") != directory) {
    return absl::InvalidArgumentError(
        directory ? absl::StrCat("a directory takes --format oci-dir, not ", format)
                  : "--format oci-dir writes a directory on this machine: give it with -o");
  }
  if (docker && request.compression() != types::v1::COMPRESSION_DEFAULT &&
      request.compression() != types::v1::COMPRESSION_NONE) {
    return absl::InvalidArgumentError(
        "docker-archive layers are uncompressed tars: --compression-format is for oci-archive "
        "and oci-dir");
  }
  ASSIGN_OR_RETURN(std::vector<SavedImage> images, Resolve(gateway, request));
  if (docker) return SaveDockerArchive(gateway.services(), images, out, progress);
  ASSIGN_OR_RETURN(layer::Compression compression, OciCompression(request.compression()));
  return SaveOciLayout(gateway.services(), images, compression, out, progress);
}

}  // namespace

absl::Status Gateway::Save(const gw::SaveRequest& request, layer::ByteSink* sink,
                           ProgressObserver* progress) {
  archive::TarArchiveWriter out(sink);
  return SaveInto(*this, request, out, false, progress);
}

absl::Status Gateway::SaveToDirectory(const gw::SaveRequest& request, const std::string& directory,
                                      ProgressObserver* progress) {
  if (request.format() != "oci-dir") {
    return absl::InvalidArgumentError("a directory takes --format oci-dir");
  }
  ASSIGN_OR_RETURN(std::vector<SavedImage> images, Resolve(*this, request));
  (void)images;  // resolved first: a missing image is reported before anything is created
  archive::DirArchiveWriter out;
  RETURN_IF_ERROR(out.Open(directory));
  return SaveInto(*this, request, out, true, progress);
}

}  // namespace strata::gateway
