#ifndef STRATA_SERVICES_RUNTIME_CORE_RUNTIME_H_
#define STRATA_SERVICES_RUNTIME_CORE_RUNTIME_H_

// The container runtime of one node, without gRPC: containers as overlay mounts of layer
// snapshots plus a writable layer each, processes run through runc under a process monitor,
// records in the state directory (written atomically, recovered by Open after a restart).
// Wherever a container is named, the full id, a unique id prefix or the name works.
//
// State directory layout (RuntimeOptions::root):
//   snapshots/, l/            layer snapshots and their short links (see Snapshotter)
//   containers/<id>/          container.json, upper/, work/, init/, rootfs/, bundle/,
//                             hosts, hostname, resolv.conf, log, exit.json, exec/
//   runc/                     runc's state
// Sockets of the process monitors live in RuntimeOptions::run_dir (short paths).

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "lib/layer/compression.h"
#include "lib/layer/layer_writer.h"
#include "lib/layer/overlay_diff.h"
#include "lib/layer/stream.h"
#include "lib/oci/image_config.h"
#include "lib/oci/layer_descriptor.h"
#include "services/runtime/core/blob_store.h"
#include "services/runtime/core/container.h"
#include "services/runtime/core/monitor_client.h"
#include "services/runtime/core/node_layout.h"
#include "services/runtime/core/snapshotter.h"

namespace strata::runtime {

struct RuntimeOptions {
  // The node's state directory.
  std::string root;
  // Where monitor sockets go: keep it short (unix socket paths hold 107 bytes).
  std::string run_dir = "/run/strata";
  std::string runc = "runc";
  // The strata-runtime-monitor binary.
  std::string monitor;
  // Most image layers a container may have; past it, Create fails telling to squash.
  int max_layers = 200;
};

struct CreateSpec {
  // 64 lowercase hex digits chosen by the caller, or empty for a random one.
  std::string id;
  std::string name;
  std::string image_id;
  std::string image_ref;
  std::vector<oci::LayerDescriptor> layers;
  oci::RunConfig image_spec;
  RunOverrides overrides;
  bool tty = false;
  bool open_stdin = false;
  std::string network;
  std::string hostname;
  // Bind mounts and tmpfs.
  std::vector<MountSpec> mounts;
  // Removed by the runtime once its process exits (docker's --rm).
  bool auto_remove = false;
};

struct TerminalSize {
  uint16_t rows = 0;
  uint16_t cols = 0;
};

struct ExecSpec {
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::string working_dir;
  std::string user;
  bool tty = false;
  bool stdin = false;
  TerminalSize size;
};

struct ExitInfo {
  int exit_code = 0;
  absl::Time finished = absl::InfinitePast();
  std::string error;
};

// A process's output (and, for Attach and Exec, its input): frames of stdout, stderr and at
// last its exit status.
class ProcessStream {
 public:
  virtual ~ProcessStream() = default;
  // The next frame (kStdout, kStderr or, last, kExit); nullopt when the stream ends without
  // an exit status (logs of a process still running, without follow).
  virtual absl::StatusOr<std::optional<Frame>> Next() = 0;
  virtual absl::Status SendStdin(absl::string_view data) = 0;
  virtual absl::Status CloseStdin() = 0;
  virtual absl::Status Resize(TerminalSize size) = 0;
  // Unblocks Next() from another thread; the stream ends.
  virtual void Cancel() = 0;
};

struct StartResult {
  ContainerRecord record;
  // Log length when the process started: replay from here to see exactly this run's output.
  int64_t log_offset = 0;
};

struct CommitOptions {
  layer::Compression compression = layer::Compression::kZstd;
  bool pause = true;
  // The gateway's layerstore lease to write the layer under ("" for none).
  std::string lease;
};

struct CommitResult {
  oci::LayerDescriptor layer;
  oci::RunConfig spec;
  std::vector<std::string> args;
  std::string image_id;
  // The writable layer held nothing.
  bool empty = false;
};

// `docker cp SRC CONTAINER:PATH`: where and how a tar is unpacked (see CopyToOptions in
// runtime.proto).
struct CopyToSpec {
  std::string path;
  // The tar's top entry; "." for a directory's contents; "" for a bare tar (`cp -`).
  std::string source_name;
  bool source_is_dir = false;
  // docker's -a; otherwise every entry belongs to 0:0.
  bool keep_owner = false;
};

struct PathInfo {
  std::string name;
  int64_t size = 0;
  uint32_t mode = 0;
  absl::Time mtime;
  std::string link_target;
};

class Runtime {
 public:
  // Opens (creating when needed) the state directory and recovers every container: running
  // ones are watched again through their monitors, those whose process ended meanwhile are
  // marked exited. blobs is not owned.
  static absl::StatusOr<std::unique_ptr<Runtime>> Open(const RuntimeOptions& options,
                                                       BlobStore* blobs);
  ~Runtime();

  // Errors: INVALID_ARGUMENT (bad name or id, no command), ALREADY_EXISTS (name or id in use),
  // FAILED_PRECONDITION (more layers than max_layers), and the snapshotter's errors.
  absl::StatusOr<ContainerRecord> Create(const CreateSpec& spec);

  // Errors: NOT_FOUND, FAILED_PRECONDITION (running or paused already; the executable or
  // user is missing from the image; runc refused: its message).
  absl::StatusOr<StartResult> Start(const std::string& container, TerminalSize size = {});

  // Errors: NOT_FOUND, FAILED_PRECONDITION (never started; or exited and no log offset given).
  absl::StatusOr<std::unique_ptr<ProcessStream>> Attach(const std::string& container, bool stdin,
                                                        std::optional<int64_t> log_offset);

  // Errors: NOT_FOUND, INVALID_ARGUMENT (no args), FAILED_PRECONDITION (not running; the
  // executable or user is missing).
  absl::StatusOr<std::unique_ptr<ProcessStream>> Exec(const std::string& container,
                                                      const ExecSpec& spec);

  // Output so far (with follow: and what comes until the process exits). tail >= 0: only
  // the last `tail` lines written so far; since: only output written at or after it. Output
  // frames come each after a kTime frame saying when they were written (when known).
  absl::StatusOr<std::unique_ptr<ProcessStream>> Logs(const std::string& container, bool follow,
                                                      int64_t tail = -1,
                                                      absl::Time since = absl::InfinitePast());

  // Errors: NOT_FOUND, INVALID_ARGUMENT (bad name; the name it has), ALREADY_EXISTS.
  absl::Status Rename(const std::string& container, const std::string& name);

  // `ps` of the container's processes: the header's titles, and each process's columns.
  // Errors: NOT_FOUND, FAILED_PRECONDITION (not running), INVALID_ARGUMENT (ps failed).
  struct TopResult {
    std::vector<std::string> titles;
    std::vector<std::vector<std::string>> processes;
  };
  absl::StatusOr<TopResult> Top(const std::string& container,
                                const std::vector<std::string>& ps_args);

  // Blocks until the main process is not running. Errors: NOT_FOUND, DEADLINE_EXCEEDED.
  absl::StatusOr<ExitInfo> Wait(const std::string& container, absl::Time deadline);

  // The stop signal, then SIGKILL after timeout. A stopped container is fine.
  absl::StatusOr<ContainerRecord> Stop(const std::string& container, absl::Duration timeout);

  // Errors: NOT_FOUND, INVALID_ARGUMENT (unknown signal), FAILED_PRECONDITION (not running).
  absl::Status Kill(const std::string& container, const std::string& signal);

  absl::Status Pause(const std::string& container);
  absl::Status Unpause(const std::string& container);

  // Errors: NOT_FOUND, FAILED_PRECONDITION (running without force). Returns the id.
  absl::StatusOr<std::string> Remove(const std::string& container, bool force);

  // Newest first; `all` includes containers that are not running.
  std::vector<ContainerRecord> List(bool all);
  // Ids of the containers removed by the runtime itself (auto-remove) since it started,
  // oldest first, at most kAutoRemovedKept: their image holds are released by whoever reads
  // this (nobody else saw them go).
  std::vector<std::string> AutoRemoved();
  static constexpr size_t kAutoRemovedKept = 1000;
  absl::StatusOr<ContainerRecord> Inspect(const std::string& container);
  // Host directory of a container's writable layer.
  std::string UpperDir(const std::string& id) const { return layout_.Container(id).upper; }
  // Bytes of the files in a container's writable layer (regular files and symlinks by their
  // size, each inode once; what docker's `ps -s` calls SIZE). Errors: NOT_FOUND (no such
  // container), the errno of a directory that cannot be read.
  absl::StatusOr<int64_t> WritableLayerSize(const std::string& container);
  // Where a container's merged file system is mounted, or "" while it is not.
  std::string MountedRootfs(const std::string& id) const;

  // The writable layer's changes, sorted by path.
  absl::StatusOr<std::vector<layer::Change>> Diff(const std::string& container);

  // Streams the writable layer as a layer blob into the blob store.
  // Errors: NOT_FOUND, UNAVAILABLE (blob store), INTERNAL (nothing partial stays).
  absl::StatusOr<CommitResult> Commit(const std::string& container, const CommitOptions& options);

  // The merged file system as an uncompressed tar.
  absl::Status Export(const std::string& container, layer::ByteSink* sink);

  // A tar of one path of the merged view. info is filled before the first byte is written.
  // Errors: NOT_FOUND (container or path), INVALID_ARGUMENT (relative path).
  absl::Status CopyFrom(const std::string& container, const std::string& path, bool follow_link,
                        const std::function<absl::Status(const PathInfo&)>& on_info,
                        layer::ByteSink* sink);

  // Unpacks a tar into the container's file system (its writable layer, through the merged
  // mount), with docker cp's placement rules. Errors: see CopyTo in runtime.proto.
  absl::Status CopyTo(const std::string& container, const CopyToSpec& spec, layer::ByteSource* tar);

 private:
  struct Entry {
    // Serializes lifecycle operations (writers); export, copy and diff read under it.
    absl::Mutex op_mu;
    // Guards everything below.
    absl::Mutex mu;
    absl::CondVar changed;
    ContainerRecord record;
    std::unique_ptr<MonitorConnection> watcher;
    // Joined only with op_mu held, or when the runtime shuts down.
    std::thread watcher_thread;
    // Attach streams open now: an auto-remove waits until they have read the exit.
    int attached = 0;
  };

  Runtime(RuntimeOptions options, BlobStore* blobs);
  absl::Status Recover();
  absl::StatusOr<std::shared_ptr<Entry>> Find(const std::string& container);
  absl::Status Persist(const ContainerRecord& record);
  absl::Status EnsureMounted(const ContainerRecord& record);
  std::vector<std::string> LowerDirs(const ContainerRecord& record);
  absl::Status Runc(const std::vector<std::string>& args);
  void Watch(const std::shared_ptr<Entry>& entry);
  void OnExit(const std::shared_ptr<Entry>& entry);
  ExitInfo ReadExitFile(const std::string& path);
  absl::StatusOr<std::string> GenerateName();
  absl::Status SignalLocked(Entry& entry, int signal_number);
  // A copy of the container's record, taken under its lock.
  ContainerRecord RecordOf(Entry& entry);
  // Pause (frozen) or Unpause.
  absl::Status Freeze(const std::string& container, bool frozen);
  // The main process's exit status, waiting for it to exit first.
  std::function<ExitInfo()> ExitInfoOnceExited(const std::shared_ptr<Entry>& entry);
  // Mounts the container's file system when needed and opens its root; the caller holds
  // op_mu (shared at least) so it stays mounted.
  absl::StatusOr<UniqueFd> OpenRootfs(Entry& entry, ContainerRecord* record);
  bool WaitForExit(Entry& entry, absl::Time deadline);
  // One attempt at Commit's upload: the upper directory as a layer blob, committed in the
  // blob store under a fresh ref (aborted on failure). Errors: the blob store's (UNAVAILABLE
  // when it went away: another attempt may reach another replica), the tree walk's.
  absl::StatusOr<layer::LayerDigests> UploadUpper(int upper_fd, const ContainerRecord& record,
                                                  const CommitOptions& options);
  // Checks the record's mounts (docker's rules and words) and makes their mount points in
  // the init layer, where the image's tree (mounted for a moment) says they go, so they
  // never show in diff or commit. Errors: INVALID_ARGUMENT.
  absl::Status PrepareMounts(ContainerRecord& record);
  // docker's --rm: removes the container once it has exited and no attach stream is open
  // (on a thread of its own, joined when the runtime shuts down).
  void ScheduleAutoRemove(const std::shared_ptr<Entry>& entry);

  const RuntimeOptions options_;
  const NodeLayout layout_;
  BlobStore* blobs_;
  Snapshotter snapshotter_;
  // Held across "is it mounted?" and the mount, so two readers never mount twice.
  absl::Mutex mount_mu_;
  absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<Entry>> containers_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string> names_ ABSL_GUARDED_BY(mu_);
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> removers_ ABSL_GUARDED_BY(mu_);
  std::deque<std::string> auto_removed_ ABSL_GUARDED_BY(mu_);
};

// A signal given by name ("TERM", "SIGTERM") or number. Errors: INVALID_ARGUMENT.
absl::StatusOr<int> ParseSignal(const std::string& signal);

}  // namespace strata::runtime

#endif  // STRATA_SERVICES_RUNTIME_CORE_RUNTIME_H_
