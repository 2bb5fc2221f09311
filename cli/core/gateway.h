#ifndef STRATA_CLI_CORE_GATEWAY_H_
#define STRATA_CLI_CORE_GATEWAY_H_

// The gateway core: every Strata workflow, written once, without printing, flags or gRPC
// serving. The `strata` CLI calls it in-process; the strata.gateway.v1 service (cli/service)
// serves it to clients in any language. As in ml-metadata's MetadataStore, requests and
// results are the API's own messages (strata.gateway.v1 and the runtime's and imagegraph's
// messages it passes through), so the gRPC adapter only moves them; byte streams are
// lib/layer ByteSource / ByteSink, process I/O a ProcessSession, progress a ProgressObserver.
//
//   Gateway gateway({.layerstore = "127.0.0.1:7420", .imagegraph = "127.0.0.1:7421",
//                    .runtime = "127.0.0.1:7422"});
//   ASSIGN_OR_RETURN(ig::Image image, gateway.Commit(commit_request, &progress));
//
// Error codes are those documented per RPC in protos/strata/gateway/v1/gateway.proto, with
// messages in docker's words where scripts read them. Thread-safe: one Gateway serves any
// number of concurrent calls.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cli/core/process_session.h"
#include "cli/core/progress.h"
#include "cli/core/services.h"
#include "lib/layer/stream.h"
#include "strata/gateway/v1/gateway.pb.h"

namespace strata::gateway {

namespace gw = ::strata::gateway::v1;

// Set (as a payload) on Run's errors that come from starting the container's process, not
// from making the container: callers map those to docker's exit codes 126 and 127.
inline constexpr char kStartFailedPayload[] = "strata.dev/start-failed";

// What Run started.
struct RunResult {
  rt::Container container;
  // Null when detached. With remove, destroying it removes the container.
  std::unique_ptr<ProcessSession> session;
};

class Gateway {
 public:
  explicit Gateway(Endpoints endpoints) : services_(std::move(endpoints)) {}

  Services& services() { return services_; }

  // --- Images -----------------------------------------------------------------------------

  // One page of images, newest first. Errors: INVALID_ARGUMENT (repository, page token).
  absl::StatusOr<ig::ListImagesResponse> ListImages(const ig::ListImagesRequest& request);
  // Every page.
  absl::StatusOr<std::vector<ig::Image>> ListAllImages(ig::ListImagesRequest request);

  // Errors: INVALID_ARGUMENT (empty), NOT_FOUND ("No such image: REF"), FAILED_PRECONDITION
  // (ambiguous prefix).
  absl::StatusOr<ig::Image> InspectImage(const std::string& ref);

  absl::StatusOr<ig::TagResponse> TagImage(const ig::TagRequest& request);

  // `docker rmi` in one imagegraph transaction (see RemoveImage in gateway.proto).
  absl::StatusOr<ig::DeleteImageResponse> RemoveImage(const ig::DeleteImageRequest& request);

  absl::StatusOr<ig::HistoryResponse> History(const std::string& ref);

  // A file system tarball becomes a one-layer image (see ImportImage in gateway.proto). The
  // upload is aborted, and nothing recorded, when anything fails.
  absl::StatusOr<ig::Image> ImportImage(const gw::ImportOptions& options,
                                        layer::ByteSource* tarball, ProgressObserver* progress);

  // A container's changes become an image (see Commit in gateway.proto).
  absl::StatusOr<ig::Image> Commit(const gw::CommitRequest& request, ProgressObserver* progress);

  // --- Registries -------------------------------------------------------------------------
  // See Pull, Push and Login in gateway.proto for what they do and their error codes.
  absl::StatusOr<gw::PullResult> Pull(const gw::PullRequest& request, ProgressObserver* progress);
  absl::StatusOr<gw::PushResult> Push(const gw::PushRequest& request, ProgressObserver* progress);
  absl::Status Login(const gw::LoginRequest& request);

  // --- Archives ---------------------------------------------------------------------------
  // See SaveImages and LoadImages in gateway.proto for what they do and their error codes.

  // docker-archive or oci-archive into sink (not closed).
  absl::Status Save(const gw::SaveRequest& request, layer::ByteSink* sink,
                    ProgressObserver* progress);
  // An OCI image layout written into directory (created, or empty). Errors: Save's,
  // ALREADY_EXISTS (not empty), FAILED_PRECONDITION (not a directory).
  absl::Status SaveToDirectory(const gw::SaveRequest& request, const std::string& directory,
                               ProgressObserver* progress);
  absl::StatusOr<gw::LoadResult> Load(const gw::LoadOptions& options, layer::ByteSource* archive,
                                      ProgressObserver* progress);
  // An OCI image layout directory on this machine. Errors: Load's.
  absl::StatusOr<gw::LoadResult> LoadDirectory(const std::string& directory,
                                               ProgressObserver* progress);

  // `docker import URL`: ImportImage of what an http(s) GET of url returns, streamed.
  // Errors: ImportImage's, INVALID_ARGUMENT (not http/https), NOT_FOUND (HTTP 404),
  // UNAVAILABLE (unreachable, other HTTP errors).
  absl::StatusOr<ig::Image> ImportImageFromUrl(const gw::ImportOptions& options,
                                               const std::string& url,
                                               ProgressObserver* progress);

  // --- Containers -------------------------------------------------------------------------

  // Holds the image for the container in imagegraph, then creates it on the runtime (the
  // hold is released again when that fails).
  absl::StatusOr<rt::Container> CreateContainer(const gw::CreateContainerRequest& request);
  absl::StatusOr<rt::StartContainerResponse> StartContainer(
      const rt::StartContainerRequest& request);
  // Create, start and (unless detached) attach from the start of this run's output.
  // Errors: those of the steps (the start's carry kStartFailedPayload); a container that was
  // created but could not start is removed again when remove is set. With remove, the
  // runtime removes the container when its process exits (detached or not).
  absl::StatusOr<RunResult> Run(const gw::RunOptions& options);

  absl::StatusOr<std::unique_ptr<ProcessSession>> Attach(const rt::AttachOptions& options);
  absl::StatusOr<std::unique_ptr<ProcessSession>> Exec(const rt::ExecOptions& options);
  absl::StatusOr<std::unique_ptr<ProcessSession>> Logs(const rt::LogsRequest& request);

  absl::StatusOr<rt::Container> StopContainer(const rt::StopRequest& request);
  absl::Status KillContainer(const rt::KillRequest& request);
  // docker restart: stop (the stop signal, SIGKILL after the timeout), then start.
  // Errors: NOT_FOUND, and those of start.
  absl::StatusOr<rt::Container> RestartContainer(const rt::StopRequest& request);
  // Errors: NOT_FOUND, INVALID_ARGUMENT (bad or same name), ALREADY_EXISTS (docker's
  // "Conflict. The container name ... is already in use").
  absl::Status RenameContainer(const rt::RenameRequest& request);
  // docker top. Errors: NOT_FOUND, FAILED_PRECONDITION (not running).
  absl::StatusOr<rt::TopResponse> TopContainer(const rt::TopRequest& request);
  absl::Status PauseContainer(const std::string& container);
  absl::Status UnpauseContainer(const std::string& container);
  // Waits until the container is not running (up to deadline).
  absl::StatusOr<rt::ExitStatus> WaitContainer(const std::string& container,
                                               absl::Time deadline = absl::InfiniteFuture());
  // Removes the container and releases its hold on its image. Returns its id.
  absl::StatusOr<std::string> RemoveContainer(const rt::RemoveRequest& request);

  // `size`: each with its writable layer's size (size_rw), which walks every writable layer.
  absl::StatusOr<std::vector<rt::Container>> ListContainers(bool all, bool size = false);
  // Errors: NOT_FOUND ("No such container: NAME"), FAILED_PRECONDITION (ambiguous prefix).
  absl::StatusOr<rt::Container> InspectContainer(const std::string& container);

  // Calls on_change for each change, sorted by path.
  absl::Status Diff(const std::string& container,
                    const std::function<absl::Status(const rt::Change&)>& on_change);

  // The container's flattened file system as a tar, into sink (not closed).
  absl::Status Export(const std::string& container, layer::ByteSink* sink);

  // A tar of one path of the container: on_stat first, then the bytes into sink.
  absl::Status CopyFrom(const rt::CopyFromRequest& request,
                        const std::function<absl::Status(const rt::PathStat&)>& on_stat,
                        layer::ByteSink* sink);

  // docker cp CONTAINER:PATH DEST onto this machine's file system: SRC/. copies what the
  // directory holds; into an existing directory SRC lands under its own name (merging); else
  // SRC becomes DEST (atomically, beside it). An existing destination is never removed.
  // Errors: those of CopyFrom, FAILED_PRECONDITION (a directory onto a file, a file onto a
  // directory), and the local file system's.
  absl::Status CopyToLocal(const rt::CopyFromRequest& request, const std::string& destination);

  // docker cp SRC CONTAINER:PATH: write_tar writes a tar (named as options.source_name says)
  // into the sink while it streams to the runtime, which places it (see CopyTo in
  // runtime.proto). Errors: the runtime's, and write_tar's.
  absl::Status CopyTo(const rt::CopyToOptions& options,
                      const std::function<absl::Status(layer::ByteSink*)>& write_tar);
  // docker cp SRC CONTAINER:PATH from this machine's file system: SRC a file or a directory
  // (with everything below it), "SRC/." what a directory holds; with follow_link a symlink
  // SRC is copied as what it points at. Sets options.source_name and source_is_dir.
  // Errors: those of CopyTo; the local file system's ("lstat SRC: ...").
  absl::Status CopyFromLocal(rt::CopyToOptions options, const std::string& source,
                             bool follow_link);

  // --- System -----------------------------------------------------------------------------

  // `strata system check` (see CheckSystem in gateway.proto): layerstore scrubs every blob
  // into quarantine, and each damaged one is given the images (every image, tagged or not)
  // that use it as a layer or as their config. Progress: "Checking", bytes checked so far.
  // Errors: the services' (UNAVAILABLE names the one down).
  absl::StatusOr<gw::CheckSystemResult> CheckSystem(ProgressObserver* progress);

  // --- Lifecycle (prune.cc) -------------------------------------------------------------
  // `strata system df` (DiskUsage in gateway.proto). Errors: the services'.
  absl::StatusOr<gw::DiskUsageResult> DiskUsage(const gw::DiskUsageRequest& request);
  // `strata image prune`, `strata container prune`, `strata system prune` (see
  // gateway.proto). Errors: INVALID_ARGUMENT (filters), FAILED_PRECONDITION (layerstore
  // cannot collect garbage), the services'.
  absl::StatusOr<gw::PruneResult> PruneImages(const gw::PruneImagesRequest& request);
  absl::StatusOr<gw::PruneResult> PruneContainers();
  absl::StatusOr<gw::PruneResult> PruneSystem(const gw::PruneImagesRequest& request);
  // Layerstore garbage collection: every blob no image needs and no live lease names.
  // Returns the bytes freed. Errors: as PruneImages.
  absl::StatusOr<int64_t> CollectGarbage();

 private:
  // The runtime node's address, recorded with holds.
  const std::string& node() const { return services_.endpoints().runtime; }
  // Reports that a container no longer uses its image (best effort: a hold left behind
  // only keeps an image until it is released).
  void ReleaseHold(const std::string& container_id);
  // Makes sure every container of this node holds its image: containers made before holds
  // existed, or through the runtime's API directly, are protected too. Best effort.
  void ReconcileHolds();

  Services services_;
};

}  // namespace strata::gateway

#endif  // STRATA_CLI_CORE_GATEWAY_H_
