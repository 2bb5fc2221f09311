// Gateway: push, as `docker push` — each layer in the compression asked for (a conversion is
// streamed once and kept, see layer_variants.h), skipped when the registry has it, mounted
// from another repository of the registry known to hold it, else uploaded from layerstore;
// then the config and the manifest, whose digest is recorded as a repository digest. The config's
// bytes go as stored, so the image id survives a round trip.

#include <atomic>
#include <optional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "cli/core/gateway.h"
#include "cli/core/layer_variants.h"
#include "cli/core/registry_access.h"
#include "lib/base/errors.h"
#include "lib/base/random.h"
#include "lib/layer/compression.h"
#include "lib/layer/layer_reader.h"
#include "lib/layer/pipe.h"
#include "lib/oci/manifest.h"
#include "lib/oci/media_types.h"
#include "lib/reference/reference.h"

namespace strata::gateway {
namespace {

using internal::ShortDigest;

void Report(absl::Mutex& mutex, ProgressObserver* progress, const std::string& action,
            const std::string& id, int64_t current = 0, int64_t total = 0) {
  gw::Progress report;
  report.set_action(action);
  report.set_id(id);
  report.set_current(current);
  report.set_total(total);
  absl::MutexLock lock(&mutex);
  progress->OnProgress(report);
}

absl::StatusOr<layer::Compression> PushCompression(types::v1::Compression compression) {
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

// A layer converted now (no kept variant) is uploaded as its compressed bytes are made, in
// one streamed request, while the same bytes go into layerstore: one pass instead of convert,
// then read back and upload. *streamed says whether the upload went through; when it did not,
// the converted copy is stored all the same and the caller pushes it with resumable PATCHes.
absl::StatusOr<types::v1::LayerDescriptor> ConvertWhilePushing(
    Services& services, distribution::RegistryClient& registry, const std::string& repository,
    const types::v1::LayerDescriptor& layer, layer::Compression compression, bool* streamed) {
  layer::Pipe pipe;
  absl::StatusOr<types::v1::LayerDescriptor> converted;
  std::thread convert([&] {
    converted = internal::ConvertLayer(services, layer, compression, pipe.sink());
    if (!converted.ok()) pipe.Fail(converted.status());
  });
  bool joined = false;
  const absl::Status pushed = registry.PushStreamedBlob(
      repository, pipe.source(), [&]() -> absl::StatusOr<Digest> {
        // The source has ended: the conversion is committing its copy.
        convert.join();
        joined = true;
        RETURN_IF_ERROR(converted.status());
        return Digest::Parse(converted->digest());
      });
  // An upload that stopped early must not hold the conversion up: it goes on into layerstore.
  pipe.CloseRead();
  if (!joined) convert.join();
  RETURN_IF_ERROR(converted.status());
  *streamed = pushed.ok();
  return *converted;
}

}  // namespace

absl::StatusOr<gw::PushResult> Gateway::Push(const gw::PushRequest& request,
                                             ProgressObserver* progress) {
  ASSIGN_OR_RETURN(Reference reference, ParseReference(request.reference()));
  if (!reference.digest.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "push ", request.reference(), ": push a tag (repository[:tag]), not a digest"));
  }
  oci::ManifestFormat format = oci::ManifestFormat::kOci;
  if (request.format() == "v2s2") {
    format = oci::ManifestFormat::kDockerV2Schema2;
  } else if (!request.format().empty() && request.format() != "oci") {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown manifest format \"", request.format(), "\": oci or v2s2"));
  }
  ASSIGN_OR_RETURN(layer::Compression compression, PushCompression(request.compression()));
  if (format == oci::ManifestFormat::kDockerV2Schema2 && compression == layer::Compression::kZstd) {
    return absl::InvalidArgumentError(
        "docker schema 2 (--format v2s2) has no zstd layers: use --compression-format gzip");
  }
  ASSIGN_OR_RETURN(ig::Image image, InspectImage(request.reference()));
  ASSIGN_OR_RETURN(layerstore::LayerstoreClient * layerstore, services_.layerstore());
  ASSIGN_OR_RETURN(std::unique_ptr<distribution::RegistryClient> registry,
                   internal::NewRegistryClient(reference.domain, request.access()));
  const std::string& repository = reference.path;
  absl::Mutex progress_mutex;

  std::vector<types::v1::LayerDescriptor> layers(image.layers().begin(), image.layers().end());
  std::vector<absl::Status> results(layers.size());
  std::atomic<size_t> next{0};
  auto push_layer = [&](size_t i) -> absl::Status {
    types::v1::LayerDescriptor& layer = layers[i];
    const std::string id = ShortDigest(layer.digest());
    Report(progress_mutex, progress, "Preparing", id);
    // In the compression asked for: the conversion is kept, so the next push reuses it.
    ASSIGN_OR_RETURN(std::optional<types::v1::LayerDescriptor> stored,
                     internal::StoredLayerInCompression(services_, layer, compression));
    if (!stored) {
      // Converted now: the bytes go to the registry as they are made, while they are stored.
      Report(progress_mutex, progress, "Pushing", id);
      bool streamed = false;
      ASSIGN_OR_RETURN(layer, ConvertWhilePushing(services_, *registry, repository, layer,
                                                  compression, &streamed));
      if (streamed) {
        Report(progress_mutex, progress, "Pushed", id, layer.size(), layer.size());
        return internal::RecordRegistryBlob(services_, layer, reference.FullName());
      }
      // The streamed upload failed (the conversion did not): push the stored copy, resumable.
    } else {
      layer = *stored;
    }
    ASSIGN_OR_RETURN(Digest digest, Digest::Parse(layer.digest()));
    ASSIGN_OR_RETURN(std::optional<int64_t> present, registry->StatBlob(repository, digest));
    if (present) {
      Report(progress_mutex, progress, "Layer already exists", id);
      return internal::RecordRegistryBlob(services_, layer, reference.FullName());
    }
    // Another repository of this registry that holds it (pulled from or pushed to): mount it
    // from there instead of sending the bytes (docker's "Mounted from ...").
    ASSIGN_OR_RETURN(
        std::vector<std::string> sources,
        internal::RepositoriesWithBlob(services_, digest, reference.domain, repository));
    for (size_t s = 0; s < sources.size() && s < 3; ++s) {
      absl::StatusOr<bool> mounted = registry->MountBlob(repository, digest, sources[s]);
      if (mounted.ok() && *mounted) {
        Report(progress_mutex, progress, absl::StrCat("Mounted from ", sources[s]), id);
        return internal::RecordRegistryBlob(services_, layer, reference.FullName());
      }
    }
    Report(progress_mutex, progress, "Pushing", id, 0, layer.size());
    RETURN_IF_ERROR(registry->PushBlob(
        repository, digest, layer.size(),
        [&](int64_t offset) -> absl::StatusOr<std::unique_ptr<layer::ByteSource>> {
          ASSIGN_OR_RETURN(std::unique_ptr<layerstore::BlobReader> reader,
                           layerstore->OpenReader(digest, offset));
          return std::unique_ptr<layer::ByteSource>(
              std::make_unique<internal::BlobSource>(std::move(reader)));
        }));
    Report(progress_mutex, progress, "Pushed", id, layer.size(), layer.size());
    return internal::RecordRegistryBlob(services_, layer, reference.FullName());
  };
  std::vector<std::thread> threads;
  for (size_t t = 0; t < std::min<size_t>(3, layers.size()); ++t) {
    threads.emplace_back([&]() {
      for (size_t i = next++; i < layers.size(); i = next++) results[i] = push_layer(i);
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const absl::Status& status : results) RETURN_IF_ERROR(status);

  const std::string& config = image.config();
  const Digest config_digest = Digest::Of(config);
  ASSIGN_OR_RETURN(std::optional<int64_t> has_config,
                   registry->StatBlob(repository, config_digest));
  if (!has_config) {
    RETURN_IF_ERROR(registry->PushBlob(
        repository, config_digest, static_cast<int64_t>(config.size()),
        [&](int64_t offset) -> absl::StatusOr<std::unique_ptr<layer::ByteSource>> {
          return std::unique_ptr<layer::ByteSource>(
              std::make_unique<layer::StringSource>(config.substr(offset)));
        }));
  }
  oci::Manifest manifest;
  const bool docker = format == oci::ManifestFormat::kDockerV2Schema2;
  manifest.media_type = docker ? oci::kDockerManifest : oci::kMediaTypeImageManifest;
  manifest.config.media_type = docker ? oci::kDockerConfig : oci::kMediaTypeImageConfig;
  manifest.config.digest = config_digest;
  manifest.config.size = static_cast<int64_t>(config.size());
  for (const types::v1::LayerDescriptor& layer : layers) {
    oci::Descriptor descriptor;
    ASSIGN_OR_RETURN(std::string oci_type, oci::OciLayerMediaType(layer.media_type()));
    ASSIGN_OR_RETURN(descriptor.media_type, oci::LayerMediaTypeFor(oci_type, format));
    ASSIGN_OR_RETURN(descriptor.digest, Digest::Parse(layer.digest()));
    descriptor.size = layer.size();
    manifest.layers.push_back(std::move(descriptor));
  }
  const std::string bytes = manifest.Serialize();
  ASSIGN_OR_RETURN(Digest digest,
                   registry->PutManifest(repository, reference.tag, manifest.media_type, bytes));
  // docker's RepoDigests: the image is now known by this manifest in this repository.
  ASSIGN_OR_RETURN(ig::ImageGraph::Stub * images, services_.imagegraph());
  ig::AddRepoDigestRequest add;
  add.set_image(image.id());
  add.set_repo_digest(absl::StrCat(reference.name, "@", digest.str()));
  ig::AddRepoDigestResponse added;
  grpc::Status recorded = images->AddRepoDigest(Services::Unary().get(), add, &added);
  if (!recorded.ok()) return services_.ImagegraphError(recorded);
  gw::PushResult result;
  result.set_tag(reference.tag);
  result.set_digest(digest.str());
  result.set_size(static_cast<int64_t>(bytes.size()));
  return result;
}

absl::Status Gateway::Login(const gw::LoginRequest& request) {
  const std::string domain =
      request.server().empty() ? std::string(kDefaultDomain) : request.server();
  ASSIGN_OR_RETURN(std::unique_ptr<distribution::RegistryClient> registry,
                   internal::NewRegistryClient(domain, request.access()));
  return registry->CheckLogin();
}

}  // namespace strata::gateway
