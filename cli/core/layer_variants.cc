#include "cli/core/layer_variants.h"

#include <algorithm>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cli/core/image_writer.h"
#include "cli/core/registry_access.h"
#include "lib/base/errors.h"
#include "lib/base/random.h"
#include "lib/layer/decompression.h"
#include "lib/reference/reference.h"

namespace strata::gateway::internal {
namespace {

// Streams the stored blob through decompression and the new compressor into a new layerstore
// upload, checking the diff id on the way.
// Writes to the store's sink and to a second consumer (a pipe to an upload).
class TeeSink : public layer::ByteSink {
 public:
  TeeSink(layer::ByteSink* first, layer::ByteSink* second) : first_(first), second_(second) {}
  absl::Status Write(absl::string_view data) override {
    RETURN_IF_ERROR(first_->Write(data));
    return second_->Write(data);
  }
  absl::Status Close() override {
    RETURN_IF_ERROR(first_->Close());
    return second_->Close();
  }

 private:
  layer::ByteSink* first_;
  layer::ByteSink* second_;
};

absl::StatusOr<types::v1::LayerDescriptor> Convert(Services& services,
                                                   const types::v1::LayerDescriptor& layer,
                                                   layer::Compression stored,
                                                   layer::Compression to,
                                                   const std::string& lease,
                                                   layer::ByteSink* also) {
  ASSIGN_OR_RETURN(std::string media_type, layer::LayerMediaType(to));
  ASSIGN_OR_RETURN(layerstore::LayerstoreClient * layerstore, services.layerstore());
  ASSIGN_OR_RETURN(Digest digest, Digest::Parse(layer.digest()));
  ASSIGN_OR_RETURN(std::unique_ptr<layerstore::BlobReader> reader, layerstore->OpenReader(digest));
  BlobSource blob(std::move(reader));
  std::unique_ptr<layer::ByteSource> tar = layer::NewDecompressingSource(stored, &blob);
  ASSIGN_OR_RETURN(std::unique_ptr<layerstore::BlobWriter> writer,
                   layerstore->OpenWriter(absl::StrCat("variant-", RandomHex(16)), {}, {}, lease));
  BlobSink store(writer.get());
  layer::HashingSink hashed(&store);
  TeeSink tee(&hashed, also);
  absl::StatusOr<std::unique_ptr<layer::ByteSink>> compressor = layer::NewCompressingSink(
      to, also != nullptr ? static_cast<layer::ByteSink*>(&tee) : &hashed, -1,
      static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  if (!compressor.ok()) {
    writer->Abort();
    return compressor.status();
  }
  Sha256 diff_id;
  absl::Status status;
  for (;;) {
    absl::StatusOr<absl::string_view> chunk = tar->Read();
    if (!chunk.ok()) {
      status = chunk.status();
      break;
    }
    if (chunk->empty()) break;
    diff_id.Update(*chunk);
    status = (*compressor)->Write(*chunk);
    if (!status.ok()) break;
  }
  if (status.ok()) status = (*compressor)->Close();
  if (status.ok()) {
    const Digest computed = diff_id.Finish();
    if (computed.str() != layer.diff_id()) {
      status = absl::DataLossError(absl::StrCat("layer ", layer.digest(), " has diff id ",
                                                computed.str(), ", not ", layer.diff_id()));
    }
  }
  if (!status.ok()) {
    writer->Abort();
    return status;
  }
  const int64_t size = static_cast<int64_t>(hashed.size());
  const Digest converted = hashed.Finish();
  ASSIGN_OR_RETURN(layerstore::CommitResult committed, writer->Commit());
  if (committed.digest != converted) {
    return absl::DataLossError(
        absl::StrCat("layerstore stored ", committed.digest.str(), ", expected ", converted.str()));
  }
  types::v1::LayerDescriptor out = layer;
  out.set_digest(converted.str());
  out.set_size(size);
  out.set_media_type(media_type);
  return out;
}

absl::Status PutVariant(Services& services, const types::v1::LayerDescriptor& blob,
                        const std::string& repository) {
  ASSIGN_OR_RETURN(ig::ImageGraph::Stub * images, services.imagegraph());
  ig::PutBlobVariantRequest request;
  ig::BlobVariant* variant = request.mutable_variant();
  variant->set_diff_id(blob.diff_id());
  variant->set_digest(blob.digest());
  variant->set_media_type(blob.media_type());
  variant->set_size(blob.size());
  variant->set_repository(repository);
  ig::PutBlobVariantResponse response;
  grpc::Status status = images->PutBlobVariant(Services::Unary().get(), request, &response);
  if (!status.ok()) return services.ImagegraphError(status);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<ig::BlobVariant>> Variants(Services& services,
                                                      const std::string& diff_id,
                                                      const std::string& digest) {
  ASSIGN_OR_RETURN(ig::ImageGraph::Stub * images, services.imagegraph());
  ig::ListBlobVariantsRequest request;
  request.set_diff_id(diff_id);
  request.set_digest(digest);
  ig::ListBlobVariantsResponse response;
  grpc::Status status = images->ListBlobVariants(Services::Unary().get(), request, &response);
  if (!status.ok()) return services.ImagegraphError(status);
  return std::vector<ig::BlobVariant>(response.variants().begin(), response.variants().end());
}

}  // namespace

absl::StatusOr<std::optional<types::v1::LayerDescriptor>> StoredLayerInCompression(
    Services& services, const types::v1::LayerDescriptor& layer, layer::Compression to) {
  ASSIGN_OR_RETURN(layer::Compression stored, layer::CompressionOfMediaType(layer.media_type()));
  if (stored == to) return layer;
  ASSIGN_OR_RETURN(layerstore::LayerstoreClient * layerstore, services.layerstore());
  // A variant kept earlier (by a push or a save) that layerstore still has.
  ASSIGN_OR_RETURN(std::vector<ig::BlobVariant> variants, Variants(services, layer.diff_id(), ""));
  for (const ig::BlobVariant& variant : variants) {
    if (!variant.repository().empty()) continue;
    absl::StatusOr<layer::Compression> compression =
        layer::CompressionOfMediaType(variant.media_type());
    if (!compression.ok() || *compression != to) continue;
    absl::StatusOr<Digest> digest = Digest::Parse(variant.digest());
    if (!digest.ok() || !layerstore->Stat(*digest).ok()) continue;  // Collected since.
    types::v1::LayerDescriptor out = layer;
    out.set_digest(variant.digest());
    out.set_media_type(variant.media_type());
    out.set_size(variant.size());
    return out;
  }
  return std::nullopt;
}

absl::StatusOr<types::v1::LayerDescriptor> ConvertLayer(Services& services,
                                                        const types::v1::LayerDescriptor& layer,
                                                        layer::Compression to,
                                                        layer::ByteSink* also) {
  ASSIGN_OR_RETURN(layer::Compression stored, layer::CompressionOfMediaType(layer.media_type()));
  // The conversion is written under a lease until imagegraph records it as a kept variant.
  ASSIGN_OR_RETURN(std::unique_ptr<layerstore::LeaseHolder> lease, TakeLease(services));
  ASSIGN_OR_RETURN(types::v1::LayerDescriptor out,
                   Convert(services, layer, stored, to, lease->id(), also));
  RETURN_IF_ERROR(lease->Check());
  RETURN_IF_ERROR(PutVariant(services, out, ""));
  (void)lease->Release();
  return out;
}

absl::StatusOr<types::v1::LayerDescriptor> LayerInCompression(
    Services& services, const types::v1::LayerDescriptor& layer, layer::Compression to,
    bool* converted) {
  if (converted != nullptr) *converted = false;
  ASSIGN_OR_RETURN(std::optional<types::v1::LayerDescriptor> kept,
                   StoredLayerInCompression(services, layer, to));
  if (kept) return *kept;
  ASSIGN_OR_RETURN(types::v1::LayerDescriptor out, ConvertLayer(services, layer, to));
  if (converted != nullptr) *converted = true;
  return out;
}

absl::Status RecordRegistryBlob(Services& services, const types::v1::LayerDescriptor& blob,
                                const std::string& full_repository) {
  return PutVariant(services, blob, full_repository);
}

absl::StatusOr<std::vector<std::string>> RepositoriesWithBlob(Services& services,
                                                              const Digest& digest,
                                                              const std::string& domain,
                                                              const std::string& except) {
  ASSIGN_OR_RETURN(std::vector<ig::BlobVariant> variants, Variants(services, "", digest.str()));
  std::vector<std::string> paths;
  for (const ig::BlobVariant& variant : variants) {
    if (variant.repository().empty()) continue;
    absl::StatusOr<Reference> reference = ParseReference(variant.repository());
    if (!reference.ok() || reference->domain != domain || reference->path == except) continue;
    paths.push_back(reference->path);
  }
  return paths;
}

}  // namespace strata::gateway::internal
