#include "cli/core/layer_variants.h"

#include <algorithm>
#include <thread>

#include "absl/strings/str_cat.h"
#include "cli/core/registry_access.h"
#include "lib/base/errors.h"
#include "lib/base/random.h"
#include "lib/layer/decompression.h"

namespace strata::gateway::internal {

absl::StatusOr<types::v1::LayerDescriptor> LayerInCompression(
    Services& services, const types::v1::LayerDescriptor& layer, layer::Compression to) {
  ASSIGN_OR_RETURN(layer::Compression stored, layer::CompressionOfMediaType(layer.media_type()));
  if (stored == to) return layer;
  ASSIGN_OR_RETURN(std::string media_type, layer::LayerMediaType(to));
  ASSIGN_OR_RETURN(layerstore::LayerstoreClient * layerstore, services.layerstore());
  ASSIGN_OR_RETURN(Digest digest, Digest::Parse(layer.digest()));
  ASSIGN_OR_RETURN(std::unique_ptr<layerstore::BlobReader> reader, layerstore->OpenReader(digest));
  BlobSource blob(std::move(reader));
  std::unique_ptr<layer::ByteSource> tar = layer::NewDecompressingSource(stored, &blob);
  ASSIGN_OR_RETURN(std::unique_ptr<layerstore::BlobWriter> writer,
                   layerstore->OpenWriter(absl::StrCat("variant-", RandomHex(16))));
  BlobSink store(writer.get());
  layer::HashingSink hashed(&store);
  absl::StatusOr<std::unique_ptr<layer::ByteSink>> compressor = layer::NewCompressingSink(
      to, &hashed, -1, static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
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

}  // namespace strata::gateway::internal
