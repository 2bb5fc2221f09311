// Gateway: pull, as `docker pull` — registry -> (digest check while streaming, diff id
// computed from the uncompressed bytes on another thread) -> layerstore -> imagegraph.

#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "cli/core/gateway.h"
#include "cli/core/image_writer.h"
#include "cli/core/layer_variants.h"
#include "cli/core/registry_access.h"
#include "lib/base/errors.h"
#include "lib/layer/layer_reader.h"
#include "lib/oci/chain_id.h"
#include "lib/oci/image_config.h"
#include "lib/oci/media_types.h"
#include "lib/oci/platform.h"
#include "lib/reference/reference.h"

namespace strata::gateway {
namespace {

using internal::ShortDigest;

// Serialises the progress of parallel layer transfers.
class LockedProgress {
 public:
  explicit LockedProgress(ProgressObserver* progress) : progress_(progress) {}
  void Report(const std::string& action, const std::string& id, int64_t current = 0,
              int64_t total = 0) {
    gw::Progress report;
    report.set_action(action);
    report.set_id(id);
    report.set_current(current);
    report.set_total(total);
    absl::MutexLock lock(&mutex_);
    progress_->OnProgress(report);
  }

 private:
  absl::Mutex mutex_;
  ProgressObserver* progress_;
};

// Writes to layerstore and to the diff id pipe; reports bytes.
class TeeSink : public layer::ByteSink {
 public:
  // pipe may be null (a resumed download: the diff id is read back from layerstore); done is
  // where the download starts.
  TeeSink(layer::ByteSink* store, internal::BytePipe* pipe, LockedProgress* progress,
          std::string id, int64_t total, int64_t done = 0)
      : store_(store),
        pipe_(pipe),
        progress_(progress),
        id_(std::move(id)),
        total_(total),
        done_(done),
        reported_(done) {}
  absl::Status Write(absl::string_view data) override {
    RETURN_IF_ERROR(store_->Write(data));
    if (pipe_ != nullptr) RETURN_IF_ERROR(pipe_->Write(data));
    done_ += data.size();
    if (done_ - reported_ >= (1 << 20) || done_ == total_) {
      reported_ = done_;
      progress_->Report("Downloading", id_, done_, total_);
    }
    return absl::OkStatus();
  }

 private:
  layer::ByteSink* store_;
  internal::BytePipe* pipe_;
  LockedProgress* progress_;
  std::string id_;
  int64_t total_;
  int64_t done_;
  int64_t reported_;
};

struct LayerJob {
  oci::Descriptor blob;
  std::string media_type;  // OCI.
  Digest diff_id;
  Digest chain_id;
  types::v1::LayerDescriptor result;
  // The pull's layerstore lease, named on every write.
  std::string lease;
};

// Reads the uncompressed tar from the pipe: its diff id and size.
struct DiffIdResult {
  absl::Status status;
  Digest diff_id;
  int64_t size = 0;
};

void ComputeDiffId(internal::BytePipe* pipe, DiffIdResult* out) {
  layer::LayerReader reader(pipe);
  for (;;) {
    absl::StatusOr<archive_entry*> entry = reader.NextEntry();
    if (!entry.ok()) {
      out->status = entry.status();
      break;
    }
    if (*entry == nullptr) {
      out->status = reader.Finish();
      break;
    }
  }
  if (out->status.ok()) {
    out->diff_id = reader.diff_id();
    out->size = static_cast<int64_t>(reader.uncompressed_size());
    pipe->Drain();
  } else {
    pipe->Fail(out->status);
  }
}

// The rest of a download an earlier pull began: fetched from the offset layerstore holds
// (HTTP Range), verified by layerstore's digest check on commit, and the diff id then read
// back from the stored blob (the bytes before the offset went by in the killed process).
absl::Status ResumeLayer(layerstore::LayerstoreClient& layerstore,
                         distribution::RegistryClient& registry, const std::string& repository,
                         LayerJob& job, LockedProgress& progress,
                         std::unique_ptr<layerstore::BlobWriter> writer) {
  const std::string id = ShortDigest(job.blob.digest.str());
  const int64_t offset = writer->offset();
  progress.Report("Resuming", id, offset, job.blob.size);
  internal::BlobSink store(writer.get());
  TeeSink tee(&store, nullptr, &progress, id, job.blob.size, offset);
  absl::Status fetched =
      registry.FetchBlob(repository, job.blob.digest, job.blob.size, &tee, offset);
  if (!fetched.ok()) {
    if (absl::IsUnavailable(fetched)) {
      (void)writer->Suspend();
    } else {
      writer->Abort();
    }
    return fetched;
  }
  absl::StatusOr<layerstore::CommitResult> stored = writer->Commit();
  if (absl::IsInvalidArgument(stored.status())) {
    return absl::DataLossError(absl::StrCat("filesystem layer verification failed for digest ",
                                            job.blob.digest.str(), " (resumed at byte ", offset,
                                            "): ", stored.status().message()));
  }
  if (!stored.ok()) return stored.status();
  ASSIGN_OR_RETURN(std::unique_ptr<layerstore::BlobReader> reader,
                   layerstore.OpenReader(job.blob.digest));
  internal::BlobSource source(std::move(reader));
  layer::LayerReader tar(&source);
  absl::Status read;
  for (;;) {
    absl::StatusOr<archive_entry*> entry = tar.NextEntry();
    if (!entry.ok()) {
      read = entry.status();
      break;
    }
    if (*entry == nullptr) {
      read = tar.Finish();
      break;
    }
  }
  if (!read.ok()) {
    return absl::DataLossError(
        absl::StrCat("layer ", job.blob.digest.str(), " is not a readable tar: ", read.message()));
  }
  if (tar.diff_id() != job.diff_id) {
    return absl::DataLossError(absl::StrCat("layer ", job.blob.digest.str(), " has diff id ",
                                            tar.diff_id().str(), ", but the image config names ",
                                            job.diff_id.str()));
  }
  job.result.set_digest(job.blob.digest.str());
  job.result.set_diff_id(job.diff_id.str());
  job.result.set_media_type(job.media_type);
  job.result.set_size(job.blob.size);
  job.result.set_uncompressed_size(static_cast<int64_t>(tar.uncompressed_size()));
  progress.Report("Download complete", id);
  return absl::OkStatus();
}

absl::Status PullLayer(Services& services, distribution::RegistryClient& registry,
                       const std::string& repository, LayerJob& job, LockedProgress& progress) {
  const std::string id = ShortDigest(job.blob.digest.str());
  ASSIGN_OR_RETURN(layerstore::LayerstoreClient * layerstore, services.layerstore());
  ASSIGN_OR_RETURN(ig::ImageGraph::Stub * images, services.imagegraph());
  // Known, as docker knows layers: imagegraph has the chain id (the same content on the same
  // layers below: the diff ids are what the image id depends on) and layerstore its blob,
  // maybe in another compression than the registry's.
  ig::GetLayerRequest known_request;
  known_request.set_chain_id(job.chain_id.str());
  ig::GetLayerResponse known;
  if (images->GetLayer(Services::Unary().get(), known_request, &known).ok()) {
    absl::StatusOr<Digest> local = Digest::Parse(known.layer().blob().digest());
    if (local.ok() && layerstore->Stat(*local).ok()) {
      job.result = known.layer().blob();
      progress.Report("Already exists", id);
      return absl::OkStatus();
    }
  }
  progress.Report("Pulling fs layer", id);
  // The upload is keyed by the blob digest: a pull killed half-way leaves it in layerstore,
  // and the next pull of the blob goes on from where it got.
  const std::string ref = absl::StrCat("pull-", job.blob.digest.hex());
  absl::StatusOr<std::unique_ptr<layerstore::BlobWriter>> opened =
      layerstore->OpenWriter(ref, job.blob.digest, job.blob.size, job.lease);
  if (absl::IsFailedPrecondition(opened.status())) {
    // An upload of that ref that expects something else (an older strata's): start over.
    (void)layerstore->AbortWrite(ref);
    opened = layerstore->OpenWriter(ref, job.blob.digest, job.blob.size, job.lease);
  }
  if (!opened.ok()) return opened.status();
  std::unique_ptr<layerstore::BlobWriter> writer = *std::move(opened);
  if (writer->offset() > 0 && writer->offset() <= job.blob.size) {
    return ResumeLayer(*layerstore, registry, repository, job, progress, std::move(writer));
  }
  if (writer->offset() > 0) {
    writer->Abort();
    ASSIGN_OR_RETURN(writer, layerstore->OpenWriter(ref, job.blob.digest, job.blob.size, job.lease));
  }
  internal::BlobSink store(writer.get());
  internal::BytePipe pipe;
  DiffIdResult diff;
  std::thread reader(ComputeDiffId, &pipe, &diff);
  TeeSink tee(&store, &pipe, &progress, id, job.blob.size);
  absl::Status fetched = registry.FetchBlob(repository, job.blob.digest, job.blob.size, &tee);
  if (fetched.ok()) {
    fetched = pipe.Close();
  } else {
    pipe.Fail(fetched);
  }
  reader.join();
  if (fetched.ok() && !diff.status.ok()) {
    fetched = absl::DataLossError(absl::StrCat("layer ", job.blob.digest.str(),
                                               " is not a readable tar: ", diff.status.message()));
  }
  if (fetched.ok() && diff.diff_id != job.diff_id) {
    fetched = absl::DataLossError(absl::StrCat("layer ", job.blob.digest.str(), " has diff id ",
                                               diff.diff_id.str(), ", but the image config names ",
                                               job.diff_id.str()));
  }
  if (!fetched.ok()) {
    // A registry that went away leaves the bytes so far for the next pull; bad bytes go.
    if (absl::IsUnavailable(fetched)) {
      (void)writer->Suspend();
    } else {
      writer->Abort();
    }
    return fetched;
  }
  ASSIGN_OR_RETURN(layerstore::CommitResult stored, writer->Commit());
  if (stored.digest != job.blob.digest) {
    return absl::DataLossError(absl::StrCat("layerstore stored ", stored.digest.str(),
                                            ", expected ", job.blob.digest.str()));
  }
  job.result.set_digest(job.blob.digest.str());
  job.result.set_diff_id(job.diff_id.str());
  job.result.set_media_type(job.media_type);
  job.result.set_size(job.blob.size);
  job.result.set_uncompressed_size(diff.size);
  progress.Report("Download complete", id);
  return absl::OkStatus();
}

// Runs jobs on up to `parallel` threads; the first error stops what has not started.
absl::Status RunParallel(size_t count, int parallel,
                         const std::function<absl::Status(size_t)>& job) {
  std::atomic<size_t> next{0};
  absl::Mutex mutex;
  absl::Status first;
  std::atomic<bool> failed{false};
  std::vector<std::thread> threads;
  const size_t workers = std::min<size_t>(count, std::max(parallel, 1));
  for (size_t t = 0; t < workers; ++t) {
    threads.emplace_back([&]() {
      for (size_t i = next++; i < count && !failed; i = next++) {
        absl::Status status = job(i);
        if (!status.ok()) {
          absl::MutexLock lock(&mutex);
          if (first.ok()) first = status;
          failed = true;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  return first;
}

}  // namespace

absl::StatusOr<gw::PullResult> Gateway::Pull(const gw::PullRequest& request,
                                             ProgressObserver* progress_observer) {
  ASSIGN_OR_RETURN(Reference reference, ParseReference(request.reference()));
  oci::Platform platform = oci::HostPlatform();
  if (!request.platform().empty()) {
    ASSIGN_OR_RETURN(platform, oci::ParsePlatform(request.platform()));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<distribution::RegistryClient> registry,
                   internal::NewRegistryClient(reference.domain, request.access()));
  LockedProgress progress(progress_observer);
  const std::string& repository = reference.path;
  progress.Report("Pulling from", repository);
  ASSIGN_OR_RETURN(oci::ManifestDocument doc,
                   registry->GetManifest(
                       repository, reference.digest.empty() ? reference.tag : reference.digest));
  // As docker records it: the digest asked for, or the tag's (of the index when it is one).
  const std::string repo_digest = absl::StrCat(reference.name, "@", doc.digest.str());
  if (doc.is_index()) {
    absl::StatusOr<oci::Descriptor> chosen =
        oci::SelectPlatform(std::get<oci::ImageIndex>(doc.content), platform);
    if (!chosen.ok()) {
      return absl::NotFoundError(
          absl::StrCat(reference.ToString(), ": ", chosen.status().message()));
    }
    ASSIGN_OR_RETURN(doc, registry->GetManifest(repository, chosen->digest.str()));
    if (doc.is_index()) {
      return absl::InvalidArgumentError(
          absl::StrCat(reference.ToString(), ": an image index inside an image index"));
    }
  }
  const oci::Manifest& manifest = std::get<oci::Manifest>(doc.content);

  // The config: small, kept as its bytes (its digest is the image id).
  constexpr int64_t kMaxConfigBytes = 16 << 20;
  if (manifest.config.size > kMaxConfigBytes) {
    return absl::InvalidArgumentError(absl::StrCat("image config of ", reference.ToString(), " is ",
                                                   manifest.config.size,
                                                   " bytes, more than 16 MiB"));
  }
  layer::StringSink config_bytes;
  RETURN_IF_ERROR(
      registry->FetchBlob(repository, manifest.config.digest, manifest.config.size, &config_bytes));
  ASSIGN_OR_RETURN(oci::ImageConfig config, oci::ImageConfig::Parse(config_bytes.contents()));
  const std::vector<Digest> diff_ids = config.diff_ids();
  if (diff_ids.size() != manifest.layers.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("image ", reference.ToString(), ": the manifest has ", manifest.layers.size(),
                     " layers but the config ", diff_ids.size(), " diff ids"));
  }
  const std::vector<Digest> chain_ids = oci::ChainIds(diff_ids);
  ASSIGN_OR_RETURN(std::unique_ptr<layerstore::LeaseHolder> lease, internal::TakeLease(services_));
  std::vector<LayerJob> jobs(manifest.layers.size());
  for (size_t i = 0; i < jobs.size(); ++i) {
    jobs[i].blob = manifest.layers[i];
    ASSIGN_OR_RETURN(jobs[i].media_type, oci::OciLayerMediaType(manifest.layers[i].media_type));
    jobs[i].diff_id = diff_ids[i];
    jobs[i].chain_id = chain_ids[i];
    jobs[i].lease = lease->id();
  }
  const int parallel =
      request.max_concurrent_downloads() > 0 ? request.max_concurrent_downloads() : 3;
  RETURN_IF_ERROR(RunParallel(jobs.size(), parallel, [&](size_t i) {
    return PullLayer(services_, *registry, repository, jobs[i], progress);
  }));

  std::vector<types::v1::LayerDescriptor> layers;
  for (const LayerJob& job : jobs) layers.push_back(job.result);
  // The registry's blobs of each layer: sources of cross-repository mounts for later pushes.
  for (const LayerJob& job : jobs) {
    types::v1::LayerDescriptor blob;
    blob.set_digest(job.blob.digest.str());
    blob.set_diff_id(job.diff_id.str());
    blob.set_media_type(job.media_type);
    blob.set_size(job.blob.size);
    RETURN_IF_ERROR(internal::RecordRegistryBlob(services_, blob, reference.FullName()));
  }
  // By digest, docker records no tag.
  const std::string tag = reference.digest.empty() ? reference.ToString() : "";
  ASSIGN_OR_RETURN(ig::Image image, internal::WriteImageBytes(services_, config_bytes.contents(),
                                                              layers, "", tag, {repo_digest},
                                                              lease.get()));
  gw::PullResult result;
  *result.mutable_image() = std::move(image);
  result.set_manifest_digest(repo_digest.substr(repo_digest.find('@') + 1));
  result.set_reference(reference.FullString());
  return result;
}

}  // namespace strata::gateway
