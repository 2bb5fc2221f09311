// Gateway: import, as `docker import` — a file system tarball in any compression becomes a
// one-layer image, in one streaming pass: tarball -> decompress -> (diff id) -> zstd ->
// (digest) -> layerstore, the tar entries parsed on the way to refuse what is not a file
// system.

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "cli/core/changes.h"
#include "cli/core/gateway.h"
#include "cli/core/image_writer.h"
#include "lib/base/errors.h"
#include "lib/base/random.h"
#include "lib/layer/compression.h"
#include "lib/layer/layer_reader.h"
#include "lib/layer/safe_fs.h"
#include "lib/oci/image_config.h"

namespace strata::gateway {
namespace {

// Streams into a layerstore upload (committed separately).
class WriterSink : public layer::ByteSink {
 public:
  explicit WriterSink(layerstore::BlobWriter* writer) : writer_(writer) {}
  absl::Status Write(absl::string_view data) override { return writer_->Write(data); }

 private:
  layerstore::BlobWriter* writer_;
};

// Reports what passes as progress ("Importing", bytes of the tarball read).
class ProgressSource : public layer::ByteSource {
 public:
  ProgressSource(layer::ByteSource* source, ProgressObserver* progress, int64_t total)
      : source_(source), progress_(progress) {
    report_.set_action("Importing");
    report_.set_total(total);
  }
  absl::StatusOr<absl::string_view> Read() override {
    absl::StatusOr<absl::string_view> chunk = source_->Read();
    if (chunk.ok()) {
      report_.set_current(report_.current() + static_cast<int64_t>(chunk->size()));
      progress_->OnProgress(report_);
    }
    return chunk;
  }

 private:
  layer::ByteSource* source_;
  ProgressObserver* progress_;
  gw::Progress report_;
};

// Names at the root of an image archive (docker save, podman save, OCI layouts).
bool IsImageArchiveMarker(const char* path) {
  absl::StatusOr<std::string> cleaned = layer::CleanPath(path);
  return cleaned.ok() &&
         (*cleaned == "manifest.json" || *cleaned == "index.json" || *cleaned == "oci-layout");
}

// Reads the whole tarball through reader; INVALID_ARGUMENT for an image archive.
absl::Status ReadFileSystem(layer::LayerReader& reader, const std::string& source) {
  for (;;) {
    ASSIGN_OR_RETURN(archive_entry * entry, reader.NextEntry());
    if (entry == nullptr) return reader.Finish();
    RETURN_IF_ERROR(layer::ValidateLayerEntry(entry));
    const char* name = layer::EntryPath(entry);
    if (name != nullptr && IsImageArchiveMarker(name)) {
      return absl::InvalidArgumentError(absl::StrCat(
          source, " is an image archive (it has ", name,
          " at its root, as `docker save`, `podman save` and OCI layouts write), not a file "
          "system tarball: load it with `strata load -i ",
          source, "`; strata import takes what `strata export` or `docker export` write"));
    }
  }
}

}  // namespace

absl::StatusOr<ig::Image> Gateway::ImportImage(const gw::ImportOptions& options,
                                               layer::ByteSource* tarball,
                                               ProgressObserver* progress) {
  ASSIGN_OR_RETURN(std::string tag, internal::TargetTag(options.tag()));
  oci::RunConfig run;
  RETURN_IF_ERROR(ApplyChanges({options.changes().begin(), options.changes().end()}, run));
  const std::string source = options.source().empty() ? "-" : options.source();
  const std::string described = source == "-" ? "standard input" : source;

  ASSIGN_OR_RETURN(layerstore::LayerstoreClient * layerstore, services_.layerstore());
  ASSIGN_OR_RETURN(std::unique_ptr<layerstore::LeaseHolder> lease, internal::TakeLease(services_));
  ASSIGN_OR_RETURN(std::unique_ptr<layerstore::BlobWriter> writer,
                   layerstore->OpenWriter(absl::StrCat("import-", RandomHex(16)), {}, {},
                                          lease->id()));
  auto abort = [&](const absl::Status& status) {
    writer->Abort();
    return status;
  };

  ProgressSource counted(tarball, progress, options.size());
  WriterSink upload(writer.get());
  layer::HashingSink compressed(&upload);
  absl::StatusOr<std::unique_ptr<layer::ByteSink>> compressor =
      layer::NewCompressingSink(layer::Compression::kZstd, &compressed, -1, 2);
  if (!compressor.ok()) return abort(compressor.status());
  layer::LayerReader reader(&counted, compressor->get());
  absl::Status read = ReadFileSystem(reader, source);
  if (!read.ok()) return abort(Annotate(read, described));
  absl::Status closed = (*compressor)->Close();
  if (!closed.ok()) return abort(closed);
  // The size first: Finish resets the hasher.
  const int64_t size = static_cast<int64_t>(compressed.size());
  const Digest digest = compressed.Finish();
  ASSIGN_OR_RETURN(layerstore::CommitResult stored, writer->Commit());
  if (stored.digest != digest) {
    return absl::DataLossError(
        absl::StrCat("layerstore stored ", stored.digest.str(), ", expected ", digest.str()));
  }

  oci::ImageConfig config;
  const std::string created = oci::FormatRfc3339(absl::Now());
  config.set_created(created);
  config.set_run_config(run);
  const std::string comment =
      options.message().empty() ? absl::StrCat("Imported from ", source) : options.message();
  config.AddLayer(reader.diff_id(), {created, "", "", comment, false});
  types::v1::LayerDescriptor layer;
  layer.set_digest(digest.str());
  layer.set_diff_id(reader.diff_id().str());
  layer.set_media_type(*layer::LayerMediaType(layer::Compression::kZstd));
  layer.set_size(size);
  layer.set_uncompressed_size(static_cast<int64_t>(reader.uncompressed_size()));
  gw::Progress writing;
  writing.set_action("Writing image");
  progress->OnProgress(writing);
  return internal::WriteImage(services_, config, {layer}, "", tag, lease.get());
}

}  // namespace strata::gateway
