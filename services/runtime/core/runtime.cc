#include "services/runtime/core/runtime.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <random>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "lib/base/errors.h"
#include "lib/base/fs.h"
#include "lib/base/log.h"
#include "lib/base/random.h"
#include "lib/base/subprocess.h"
#include "lib/layer/safe_fs.h"
#include "lib/oci/chain_id.h"
#include "lib/oci/image_config.h"
#include "nlohmann/json.hpp"
#include "services/runtime/core/mounter.h"
#include "services/runtime/core/oci_spec.h"
#include "services/runtime/core/process_launch.h"
#include "services/runtime/core/process_streams.h"

namespace strata::runtime {

namespace {

constexpr absl::Duration kMonitorStartTimeout = absl::Seconds(60);

bool IsRunning(ContainerState state) {
  return state == ContainerState::kRunning || state == ContainerState::kPaused;
}

bool ValidName(const std::string& name) {
  if (name.empty() || name.size() > 128 || !absl::ascii_isalnum(name[0])) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return absl::ascii_isalnum(c) || c == '_' || c == '.' || c == '-';
  });
}

std::string HostResolvConf() {
  absl::StatusOr<std::string> contents = ReadFile("/etc/resolv.conf");
  return contents.ok() ? *contents : "";
}

// Writes an empty file (a bind-mount target) inside the init layer.
absl::Status Touch(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
  if (!fd.valid()) return ErrnoStatus(errno, "create " + path);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<int> ParseSignal(const std::string& signal) {
  static const std::map<std::string, int> kSignals = {
      {"HUP", SIGHUP},       {"INT", SIGINT},   {"QUIT", SIGQUIT},   {"ILL", SIGILL},
      {"TRAP", SIGTRAP},     {"ABRT", SIGABRT}, {"BUS", SIGBUS},     {"FPE", SIGFPE},
      {"KILL", SIGKILL},     {"USR1", SIGUSR1}, {"SEGV", SIGSEGV},   {"USR2", SIGUSR2},
      {"PIPE", SIGPIPE},     {"ALRM", SIGALRM}, {"TERM", SIGTERM},   {"CHLD", SIGCHLD},
      {"CONT", SIGCONT},     {"STOP", SIGSTOP}, {"TSTP", SIGTSTP},   {"TTIN", SIGTTIN},
      {"TTOU", SIGTTOU},     {"URG", SIGURG},   {"XCPU", SIGXCPU},   {"XFSZ", SIGXFSZ},
      {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF}, {"WINCH", SIGWINCH}, {"IO", SIGIO},
      {"PWR", SIGPWR},       {"SYS", SIGSYS}};
  int number = 0;
  if (absl::SimpleAtoi(signal, &number)) {
    if (number > 0 && number < 65) return number;
  } else {
    std::string name = absl::AsciiStrToUpper(signal);
    if (absl::StartsWith(name, "SIG")) name = name.substr(3);
    auto it = kSignals.find(name);
    if (it != kSignals.end()) return it->second;
    // Real-time signals: RTMIN, RTMIN+n, RTMAX, RTMAX-n (systemd's stop signal is RTMIN+3).
    int offset = 0;
    if (name == "RTMIN") return SIGRTMIN;
    if (name == "RTMAX") return SIGRTMAX;
    if (absl::StartsWith(name, "RTMIN+") && absl::SimpleAtoi(name.substr(6), &offset) &&
        offset >= 0 && SIGRTMIN + offset <= SIGRTMAX) {
      return SIGRTMIN + offset;
    }
    if (absl::StartsWith(name, "RTMAX-") && absl::SimpleAtoi(name.substr(6), &offset) &&
        offset >= 0 && SIGRTMAX - offset >= SIGRTMIN) {
      return SIGRTMAX - offset;
    }
  }
  return absl::InvalidArgumentError(absl::StrCat("invalid signal \"", signal, "\""));
}

Runtime::Runtime(RuntimeOptions options, BlobStore* blobs)
    : options_(std::move(options)),
      layout_(options_.root, options_.run_dir),
      blobs_(blobs),
      snapshotter_(options_.root, blobs) {}

absl::StatusOr<std::unique_ptr<Runtime>> Runtime::Open(const RuntimeOptions& options,
                                                       BlobStore* blobs) {
  if (options.root.empty() || options.root[0] != '/') {
    return absl::InvalidArgumentError("the runtime's root must be an absolute path");
  }
  if (options.monitor.empty()) return absl::InvalidArgumentError("no monitor binary given");
  std::unique_ptr<Runtime> runtime(new Runtime(options, blobs));
  RETURN_IF_ERROR(MakeDirs(options.root, 0700));
  RETURN_IF_ERROR(MakeDirs(runtime->layout_.containers_dir(), 0700));
  RETURN_IF_ERROR(MakeDirs(runtime->layout_.runc_root(), 0700));
  RETURN_IF_ERROR(MakeDirs(options.run_dir, 0700));
  RETURN_IF_ERROR(runtime->snapshotter_.Init());
  RETURN_IF_ERROR(runtime->Recover());
  return runtime;
}

Runtime::~Runtime() {
  std::vector<std::shared_ptr<Entry>> entries;
  {
    absl::MutexLock lock(&mu_);
    shutting_down_ = true;
    for (auto& [id, entry] : containers_) entries.push_back(entry);
  }
  for (const auto& entry : entries) {
    {
      absl::MutexLock lock(&entry->mu);
      if (entry->watcher) entry->watcher->Shutdown();
    }
    if (entry->watcher_thread.joinable()) entry->watcher_thread.join();
  }
  std::vector<std::thread> removers;
  {
    absl::MutexLock lock(&mu_);
    removers.swap(removers_);
  }
  for (std::thread& remover : removers) remover.join();
}

ContainerRecord Runtime::RecordOf(Entry& entry) {
  absl::MutexLock lock(&entry.mu);
  return entry.record;
}

std::string Runtime::MountedRootfs(const std::string& id) const {
  const std::string rootfs = layout_.Container(id).rootfs;
  return IsMountPoint(rootfs) ? rootfs : "";
}

absl::Status Runtime::Persist(const ContainerRecord& record) {
  return WriteFileAtomically(layout_.Container(record.id).record, RecordToJson(record), 0600);
}

absl::Status Runtime::Runc(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {options_.runc, "--root", layout_.runc_root()};
  argv.insert(argv.end(), args.begin(), args.end());
  ASSIGN_OR_RETURN(CommandResult result, RunCommand(argv));
  if (result.exit_code != 0) {
    return absl::InternalError(absl::StrCat("runc ", args.empty() ? "" : args[0], ": ",
                                            absl::StripTrailingAsciiWhitespace(result.output)));
  }
  return absl::OkStatus();
}

absl::Status Runtime::Recover() {
  const std::string containers_dir = layout_.containers_dir();
  DIR* dir = ::opendir(containers_dir.c_str());
  if (dir == nullptr) return ErrnoStatus(errno, "opendir " + containers_dir);
  std::vector<std::string> ids;
  while (struct dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] != '.') ids.push_back(entry->d_name);
  }
  ::closedir(dir);
  std::vector<std::shared_ptr<Entry>> running;
  for (const std::string& id : ids) {
    absl::StatusOr<std::string> json = ReadFile(layout_.Container(id).record);
    if (!json.ok()) {
      STRATA_LOG(WARNING) << "container " << id << ": no record, skipped: " << json.status();
      continue;
    }
    absl::StatusOr<ContainerRecord> record = RecordFromJson(*json);
    if (!record.ok()) {
      STRATA_LOG(WARNING) << "container " << id << ": " << record.status();
      continue;
    }
    auto entry = std::make_shared<Entry>();
    entry->record = std::move(*record);
    {
      absl::MutexLock lock(&mu_);
      names_[entry->record.name] = entry->record.id;
      containers_[entry->record.id] = entry;
    }
    if (IsRunning(entry->record.state)) {
      running.push_back(entry);
    } else if (entry->record.auto_remove && entry->record.state == ContainerState::kExited) {
      ScheduleAutoRemove(entry);  // it exited while the service was down
    }
  }
  for (const auto& entry : running) {
    // A commit interrupted by a crash of the service can leave a running container frozen.
    if (entry->record.state == ContainerState::kRunning) (void)Runc({"resume", entry->record.id});
    Watch(entry);
  }
  STRATA_LOG(INFO) << "recovered " << ids.size() << " containers, " << running.size()
                   << " were running";
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<Runtime::Entry>> Runtime::Find(const std::string& container) {
  if (container.empty()) return absl::InvalidArgumentError("no container given");
  absl::MutexLock lock(&mu_);
  auto by_id = containers_.find(container);
  if (by_id != containers_.end()) return by_id->second;
  auto by_name = names_.find(container);
  if (by_name != names_.end()) {
    auto named = containers_.find(by_name->second);
    if (named != containers_.end()) return named->second;
    return absl::UnavailableError(
        absl::StrCat("container \"", container, "\" is being created: try again"));
  }
  std::vector<std::string> matches;
  for (auto it = containers_.lower_bound(container);
       it != containers_.end() && absl::StartsWith(it->first, container); ++it) {
    matches.push_back(it->first);
  }
  if (matches.size() == 1) return containers_.at(matches[0]);
  if (matches.size() > 1) {
    for (std::string& id : matches) id = id.substr(0, 12);
    return absl::FailedPreconditionError(absl::StrCat(
        "container id prefix \"", container, "\" is ambiguous: ", absl::StrJoin(matches, ", ")));
  }
  return absl::NotFoundError(absl::StrCat("no such container: \"", container, "\""));
}

absl::StatusOr<std::string> Runtime::GenerateName() {
  static const char* kAdjectives[] = {"brave", "calm",  "eager", "fancy", "gentle", "happy",
                                      "jolly", "keen",  "lucid", "merry", "nimble", "proud",
                                      "quiet", "rapid", "sharp", "tidy",  "vivid",  "witty"};
  static const char* kNouns[] = {"archimedes", "babbage", "curie",   "darwin",  "euler",
                                 "fermat",     "gauss",   "hopper",  "kepler",  "lovelace",
                                 "noether",    "pascal",  "ritchie", "shannon", "turing"};
  thread_local std::mt19937_64 generator(std::random_device{}());
  absl::MutexLock lock(&mu_);
  for (int attempt = 0; attempt < 50; ++attempt) {
    std::string name = absl::StrCat(kAdjectives[generator() % std::size(kAdjectives)], "_",
                                    kNouns[generator() % std::size(kNouns)]);
    if (attempt > 10) absl::StrAppend(&name, "_", generator() % 1000);
    if (names_.count(name) == 0) return name;
  }
  return absl::InternalError("could not generate a free container name");
}

absl::StatusOr<ContainerRecord> Runtime::Create(const CreateSpec& spec) {
  if (!spec.name.empty() && !ValidName(spec.name)) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid container name \"", spec.name,
                     "\": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed, up to 128 characters"));
  }
  if (static_cast<int>(spec.layers.size()) > options_.max_layers) {
    return absl::FailedPreconditionError(absl::StrCat(
        "image has ", spec.layers.size(), " layers, more than the ", options_.max_layers,
        " this node mounts (--max-layers): squash the image to fewer layers (e.g. "
        "`strata export` a container and `strata import` the tar)"));
  }
  if (spec.network != "" && spec.network != "host" && spec.network != "none") {
    return absl::InvalidArgumentError(
        absl::StrCat("network \"", spec.network, "\": only \"host\" and \"none\" exist"));
  }
  ContainerRecord record;
  ASSIGN_OR_RETURN(record.spec, MergeRunSpec(spec.image_spec, spec.overrides));
  ASSIGN_OR_RETURN(record.args, CommandLine(record.spec));
  if (!spec.id.empty() && (spec.id.size() != 64 || !IsLowerHex(spec.id))) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid container id \"", spec.id, "\": 64 lowercase hex digits expected"));
  }
  record.id = spec.id.empty() ? RandomHex(64) : spec.id;
  record.name = spec.name;
  if (record.name.empty()) {
    ASSIGN_OR_RETURN(record.name, GenerateName());
  }
  record.image_id = spec.image_id;
  record.image_ref = spec.image_ref;
  record.tty = spec.tty;
  record.open_stdin = spec.open_stdin;
  record.network = spec.network.empty() ? "host" : spec.network;
  record.hostname = spec.hostname.empty() ? record.id.substr(0, 12) : spec.hostname;
  record.auto_remove = spec.auto_remove;
  record.created = absl::Now();
  std::vector<Digest> diff_ids;
  for (const oci::LayerDescriptor& layer : spec.layers) diff_ids.push_back(layer.diff_id);
  const std::vector<Digest> chain_ids = oci::ChainIds(diff_ids);
  for (size_t i = 0; i < spec.layers.size(); ++i) {
    const oci::LayerDescriptor& layer = spec.layers[i];
    record.layers.push_back({layer.digest, layer.diff_id, chain_ids[i], layer.media_type,
                             layer.size, layer.uncompressed_size});
  }

  // Reserve the name before the slow part, so two creates cannot both take it.
  {
    absl::MutexLock lock(&mu_);
    if (containers_.count(record.id) > 0 ||
        std::any_of(names_.begin(), names_.end(),
                    [&](const auto& entry) { return entry.second == record.id; })) {
      return absl::AlreadyExistsError(
          absl::StrCat("container id ", record.id, " is already in use"));
    }
    auto taken = names_.find(record.name);
    if (taken != names_.end()) {
      return absl::AlreadyExistsError(absl::StrCat("container name \"", record.name,
                                                   "\" is already in use by container ",
                                                   taken->second.substr(0, 12)));
    }
    names_[record.name] = record.id;
  }
  auto release_name = [&](absl::Status status) {
    absl::MutexLock lock(&mu_);
    names_.erase(record.name);
    return status;
  };

  absl::StatusOr<std::vector<Snapshot>> snapshots = snapshotter_.Prepare(record.layers);
  if (!snapshots.ok()) return release_name(snapshots.status());

  const ContainerPaths paths = layout_.Container(record.id);
  const std::string& dir = paths.dir;
  absl::Status status = [&]() -> absl::Status {
    for (const std::string& sub :
         {paths.upper, paths.work, paths.rootfs, paths.bundle, dir + "/exec", paths.init}) {
      RETURN_IF_ERROR(MakeDirs(sub, 0755));
    }
    ::chmod(dir.c_str(), 0700);
    // The init layer: mount points runc needs, so they never show in diff or commit.
    const std::string& init = paths.init;
    for (const char* sub : {"proc", "sys", "dev", "dev/pts", "dev/shm", "dev/mqueue", "etc"}) {
      RETURN_IF_ERROR(MakeDirs(absl::StrCat(init, "/", sub), 0755));
    }
    for (const char* file : {"etc/hosts", "etc/hostname", "etc/resolv.conf"}) {
      RETURN_IF_ERROR(Touch(absl::StrCat(init, "/", file)));
    }
    RETURN_IF_ERROR(WriteFileAtomically(paths.hostname, record.hostname + "\n"));
    RETURN_IF_ERROR(WriteFileAtomically(
        paths.hosts, absl::StrCat("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost "
                                  "ip6-loopback\n127.0.1.1\t",
                                  record.hostname, "\n")));
    RETURN_IF_ERROR(
        WriteFileAtomically(paths.resolv_conf, record.network == "host" ? HostResolvConf() : ""));
    RETURN_IF_ERROR(Touch(paths.main.log));
    ASSIGN_OR_RETURN(record.init_link, snapshotter_.AddLink(init));
    record.mounts = spec.mounts;
    RETURN_IF_ERROR(PrepareMounts(record));
    return Persist(record);
  }();
  if (!status.ok()) {
    snapshotter_.RemoveLink(record.init_link);
    (void)RemoveAll(dir);
    return release_name(status);
  }
  auto entry = std::make_shared<Entry>();
  entry->record = record;
  {
    absl::MutexLock lock(&mu_);
    containers_[record.id] = entry;
  }
  STRATA_LOG(INFO) << "created container " << record.name << " (" << record.id.substr(0, 12)
                   << ") from " << record.image_ref << ", " << record.layers.size() << " layers";
  return record;
}

std::vector<std::string> Runtime::LowerDirs(const ContainerRecord& record) {
  std::vector<std::string> dirs = {layout_.Container(record.id).init};
  for (auto it = record.layers.rbegin(); it != record.layers.rend(); ++it) {
    dirs.push_back(snapshotter_.FsDir(it->chain_id));
  }
  return dirs;
}

absl::Status Runtime::EnsureMounted(const ContainerRecord& record) {
  const ContainerPaths paths = layout_.Container(record.id);
  absl::MutexLock lock(&mount_mu_);
  if (IsMountPoint(paths.rootfs)) return absl::OkStatus();
  // Snapshots may have been pruned, or this is a new boot: prepare them again.
  ASSIGN_OR_RETURN(std::vector<Snapshot> snapshots, snapshotter_.Prepare(record.layers));
  OverlayMount mount;
  mount.link_dir = snapshotter_.link_dir();
  mount.lower_links.push_back(record.init_link);
  for (auto it = snapshots.rbegin(); it != snapshots.rend(); ++it) {
    mount.lower_links.push_back(it->link);
  }
  mount.upper_dir = paths.upper;
  mount.work_dir = paths.work;
  mount.target = paths.rootfs;
  return MountOverlay(mount);
}

ExitInfo Runtime::ReadExitFile(const std::string& path) {
  ExitInfo info;
  absl::StatusOr<std::string> contents = ReadFile(path);
  if (!contents.ok()) {
    info.exit_code = 255;
    info.finished = absl::Now();
    info.error = "the process monitor ended without reporting an exit status";
    return info;
  }
  nlohmann::json document = nlohmann::json::parse(*contents, nullptr, false);
  info.exit_code = document.is_object() ? document.value("exit_code", 255) : 255;
  absl::StatusOr<absl::Time> finished =
      oci::ParseRfc3339(document.is_object() ? document.value("finished", "") : "");
  info.finished = finished.ok() ? *finished : absl::Now();
  return info;
}

void Runtime::Watch(const std::shared_ptr<Entry>& entry) {
  std::string id;
  {
    absl::MutexLock lock(&entry->mu);
    id = entry->record.id;
  }
  if (entry->watcher_thread.joinable()) entry->watcher_thread.join();
  absl::StatusOr<std::unique_ptr<MonitorConnection>> connection =
      MonitorConnection::Connect(layout_.Container(id).main.socket, false, -1);
  if (!connection.ok()) {
    OnExit(entry);
    return;
  }
  MonitorConnection* watcher = connection->get();
  {
    absl::MutexLock lock(&entry->mu);
    entry->watcher = std::move(*connection);
  }
  entry->watcher_thread = std::thread([this, entry, watcher] {
    for (;;) {
      absl::StatusOr<std::optional<Frame>> frame = watcher->Next();
      if (!frame.ok() || !frame->has_value() || (**frame).type == FrameType::kExit) break;
    }
    OnExit(entry);
  });
}

void Runtime::OnExit(const std::shared_ptr<Entry>& entry) {
  {
    absl::MutexLock lock(&mu_);
    if (shutting_down_) return;
  }
  std::string id;
  {
    absl::MutexLock lock(&entry->mu);
    id = entry->record.id;
  }
  ExitInfo info = ReadExitFile(layout_.Container(id).main.exit_file);
  if (!info.error.empty()) {
    // The monitor is gone without a word: make sure nothing of the container runs on.
    (void)Runc({"kill", id, "KILL"});
    (void)Runc({"delete", "--force", id});
  }
  absl::MutexLock lock(&entry->mu);
  ContainerRecord& record = entry->record;
  if (IsRunning(record.state)) {
    record.state = ContainerState::kExited;
    record.exit_code = info.exit_code;
    record.finished = info.finished;
    record.pid = 0;
    record.error = info.error;
    absl::Status status = Persist(record);
    if (!status.ok()) STRATA_LOG(ERROR) << "container " << id << ": " << status;
    STRATA_LOG(INFO) << "container " << record.name << " exited with " << info.exit_code;
    if (record.auto_remove) ScheduleAutoRemove(entry);
  }
  entry->watcher.reset();
  entry->changed.SignalAll();
}

void Runtime::ScheduleAutoRemove(const std::shared_ptr<Entry>& entry) {
  absl::MutexLock lock(&mu_);
  if (shutting_down_) return;
  removers_.emplace_back([this, entry] {
    std::string id;
    for (;;) {
      {
        absl::MutexLock runtime_lock(&mu_);
        if (shutting_down_) return;
      }
      absl::MutexLock entry_lock(&entry->mu);
      // Started again meanwhile (restart): its next exit schedules another removal.
      if (IsRunning(entry->record.state)) return;
      id = entry->record.id;
      // The run's client reads the exit status through its attach stream first; a client
      // that never attaches (detached, killed) is not waited for long.
      if (entry->attached == 0 && absl::Now() - entry->record.finished > absl::Seconds(1)) break;
      entry->changed.WaitWithTimeout(&entry->mu, absl::Milliseconds(100));
    }
    absl::StatusOr<std::string> removed = Remove(id, /*force=*/true);
    if (!removed.ok() && !absl::IsNotFound(removed.status())) {
      STRATA_LOG(WARNING) << "auto-remove of container " << id << ": " << removed.status();
      return;
    }
    absl::MutexLock lock(&mu_);
    auto_removed_.push_back(id);
    if (auto_removed_.size() > kAutoRemovedKept) auto_removed_.pop_front();
  });
}

absl::StatusOr<StartResult> Runtime::Start(const std::string& container, TerminalSize size) {
  ASSIGN_OR_RETURN(std::shared_ptr<Entry> entry, Find(container));
  absl::WriterMutexLock op(&entry->op_mu);
  ContainerRecord record = RecordOf(*entry);
  if (IsRunning(record.state)) {
    return absl::FailedPreconditionError(
        absl::StrCat("container \"", record.name, "\" is already running"));
  }
  const ContainerPaths paths = layout_.Container(record.id);
  RETURN_IF_ERROR(EnsureMounted(record));
  UniqueFd rootfs(::open(paths.rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!rootfs.valid()) return ErrnoStatus(errno, "open rootfs");

  absl::StatusOr<ProcessSpec> process =
      BuildProcessSpec(rootfs.get(), {.args = record.args,
                                      .env = record.spec.env,
                                      .working_dir = record.spec.working_dir,
                                      .user = record.spec.user,
                                      .hostname = record.hostname,
                                      .terminal = record.tty,
                                      .rows = size.rows,
                                      .cols = size.cols,
                                      .create_working_dir = true});
  if (!process.ok()) {
    return Annotate(process.status(), absl::StrCat("container \"", record.name, "\""));
  }

  BundleSpec bundle;
  bundle.rootfs = paths.rootfs;
  bundle.hostname = record.hostname;
  bundle.network = record.network;
  bundle.hosts_file = paths.hosts;
  bundle.hostname_file = paths.hostname;
  bundle.resolv_file = paths.resolv_conf;
  bundle.cgroups_path = absl::StrCat("/strata/", record.id);
  bundle.process = *std::move(process);
  for (const MountSpec& mount : record.mounts) {
    bundle.mounts.push_back(
        {mount.type, mount.source, mount.target, mount.readonly, mount.options});
  }
  RETURN_IF_ERROR(WriteFileAtomically(paths.bundle_config, RuntimeConfigJson(bundle)));

  struct stat log_stat;
  const int64_t log_offset = ::stat(paths.main.log.c_str(), &log_stat) == 0 ? log_stat.st_size : 0;
  ::unlink(paths.main.exit_file.c_str());
  // A runc state left by a crash would make `runc create` refuse the id.
  if (PathExists(layout_.RuncState(record.id))) (void)Runc({"delete", "--force", record.id});

  absl::StatusOr<int> pid = LaunchMonitor(MonitorArgv({.monitor = options_.monitor,
                                                       .runc = options_.runc,
                                                       .runc_root = layout_.runc_root(),
                                                       .id = record.id,
                                                       .mode = "create",
                                                       .bundle = paths.bundle,
                                                       .paths = paths.main,
                                                       .tty = record.tty,
                                                       .open_stdin = record.open_stdin}),
                                          kMonitorStartTimeout);
  if (!pid.ok()) {
    // A monitor that did not report in time may still have started the process.
    (void)Runc({"kill", record.id, "KILL"});
    (void)Runc({"delete", "--force", record.id});
    return Annotate(pid.status(), absl::StrCat("starting container \"", record.name, "\""));
  }
  absl::Status persisted;
  {
    absl::MutexLock lock(&entry->mu);
    entry->record.state = ContainerState::kRunning;
    entry->record.pid = *pid;
    entry->record.started = absl::Now();
    entry->record.finished = absl::InfinitePast();
    entry->record.exit_code = 0;
    entry->record.error.clear();
    persisted = Persist(entry->record);
    record = entry->record;
  }
  // Watched whatever happened to the record: the process runs, its exit must be seen.
  Watch(entry);
  RETURN_IF_ERROR(persisted);
  return StartResult{record, log_offset};
}

bool Runtime::WaitForExit(Entry& entry, absl::Time deadline) {
  absl::MutexLock lock(&entry.mu);
  while (IsRunning(entry.record.state)) {
    if (entry.changed.WaitWithDeadline(&entry.mu, deadline) && absl::Now() >= deadline) {
      return !IsRunning(entry.record.state);
    }
  }
  return true;
}

std::function<ExitInfo()> Runtime::ExitInfoOnceExited(const std::shared_ptr<Entry>& entry) {
  return [this, entry]() {
    WaitForExit(*entry, absl::InfiniteFuture());
    absl::MutexLock lock(&entry->mu);
    return ExitInfo{entry->record.exit_code, entry->record.finished, entry->record.error};
  };
}

absl::StatusOr<ExitInfo> Runtime::Wait(const std::string& container, absl::Time deadline) {
  ASSIGN_OR_RETURN(std::shared_ptr<Entry> entry, Find(container));
  if (!WaitForExit(*entry, deadline)) {
    return absl::DeadlineExceededError(
        absl::StrCat("container \"", container, "\" is still running"));
  }
  absl::MutexLock lock(&entry->mu);
  return ExitInfo{entry->record.exit_code, entry->record.finished, entry->record.error};
}

absl::Status Runtime::SignalLocked(Entry& entry, int signal_number) {
  ContainerRecord record = RecordOf(entry);
  if (!IsRunning(record.state)) {
    return absl::FailedPreconditionError(
        absl::StrCat("container \"", record.name, "\" is not running"));
  }
  RETURN_IF_ERROR(Runc({"kill", record.id, std::to_string(signal_number)}));
  if (signal_number == SIGKILL || signal_number == SIGTERM) {
    // A frozen process cannot act on the signal: thaw it, even when the record does not say
    // paused (a commit interrupted between its pause and its resume).
    (void)Runc({"resume", record.id});
    absl::MutexLock lock(&entry.mu);
    if (entry.record.state == ContainerState::kPaused) {
      entry.record.state = ContainerState::kRunning;
      (void)Persist(entry.record);
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<ContainerRecord> Runtime::Stop(const std::string& container,
                                              absl::Duration timeout) {
  ASSIGN_OR_RETURN(std::shared_ptr<Entry> entry, Find(container));
  absl::WriterMutexLock op(&entry->op_mu);
  std::string stop_signal;
  {
    absl::MutexLock lock(&entry->mu);
    if (!IsRunning(entry->record.state)) return entry->record;
    stop_signal =
        entry->record.spec.stop_signal.empty() ? "SIGTERM" : entry->record.spec.stop_signal;
  }
  // An image's bad StopSignal must not make the container unstoppable.
  absl::StatusOr<int> parsed = ParseSignal(stop_signal);
  const int signal_number = parsed.ok() ? *parsed : SIGTERM;
  absl::Status signalled = SignalLocked(*entry, signal_number);
  if (!signalled.ok() && !absl::IsFailedPrecondition(signalled)) {
    STRATA_LOG(WARNING) << "stop " << container << ": " << signalled;
  }
  if (!WaitForExit(*entry, absl::Now() + timeout)) {
    (void)SignalLocked(*entry, SIGKILL);
    if (!WaitForExit(*entry, absl::Now() + absl::Seconds(30))) {
      return absl::DeadlineExceededError(
          absl::StrCat("container \"", container, "\" did not exit after SIGKILL"));
    }
  }
  absl::MutexLock lock(&entry->mu);
  return entry->record;
}

absl::Status Runtime::Kill(const std::string& container, const std::string& signal) {
  ASSIGN_OR_RETURN(int signal_number, ParseSignal(signal.empty() ? "KILL" : signal));
  ASSIGN_OR_RETURN(std::shared_ptr<Entry> entry, Find(container));
  absl::WriterMutexLock op(&entry->op_mu);
  return SignalLocked(*entry, signal_number);
}

absl::Status Runtime::Pause(const std::string& container) {
  return Freeze(container, /*frozen=*/true);
}

absl::Status Runtime::Unpause(const std::string& container) {
  return Freeze(container, /*frozen=*/false);
}

absl::Status Runtime::Freeze(const std::string& container, bool frozen) {
  const ContainerState from = frozen ? ContainerState::kRunning : ContainerState::kPaused;
  const ContainerState to = frozen ? ContainerState::kPaused : ContainerState::kRunning;
  ASSIGN_OR_RETURN(std::shared_ptr<Entry> entry, Find(container));
  absl::WriterMutexLock op(&entry->op_mu);
  std::string id;
  {
    absl::MutexLock lock(&entry->mu);
    if (entry->record.state != from) {
      return absl::FailedPreconditionError(absl::StrCat(
          "container \"", entry->record.name, "\" is not ", frozen ? "running" : "paused"));
    }
    id = entry->record.id;
  }
  RETURN_IF_ERROR(Runc({frozen ? "pause" : "resume", id}));
  absl::MutexLock lock(&entry->mu);
  if (entry->record.state == from) {
    entry->record.state = to;
    RETURN_IF_ERROR(Persist(entry->record));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> Runtime::Remove(const std::string& container, bool force) {
  ASSIGN_OR_RETURN(std::shared_ptr<Entry> entry, Find(container));
  absl::WriterMutexLock op(&entry->op_mu);
  ContainerRecord record = RecordOf(*entry);
  {
    // Removed by another call while this one waited (an auto-remove and a client's rm).
    absl::MutexLock lock(&mu_);
    auto it = containers_.find(record.id);
    if (it == containers_.end() || it->second != entry) {
      return absl::NotFoundError(absl::StrCat("no such container: \"", container, "\""));
    }
  }
  if (IsRunning(record.state)) {
    if (!force) {
      return absl::FailedPreconditionError(absl::StrCat("container \"", record.name, "\" is ",
                                                        StateName(record.state),
                                                        ": stop it first, or force the removal"));
    }
    (void)SignalLocked(*entry, SIGKILL);
    if (!WaitForExit(*entry, absl::Now() + absl::Seconds(30))) {
      return absl::DeadlineExceededError(
          absl::StrCat("container \"", record.name, "\" did not exit after SIGKILL"));
    }
  }
  if (entry->watcher_thread.joinable()) entry->watcher_thread.join();
  const ContainerPaths paths = layout_.Container(record.id);
  RETURN_IF_ERROR(Unmount(paths.rootfs));
  (void)Runc({"delete", "--force", record.id});
  snapshotter_.RemoveLink(record.init_link);
  RETURN_IF_ERROR(RemoveAll(paths.dir));
  {
    absl::MutexLock lock(&mu_);
    containers_.erase(record.id);
    names_.erase(record.name);
  }
  STRATA_LOG(INFO) << "removed container " << record.name << " (" << record.id.substr(0, 12) << ")";
  return record.id;
}

absl::Status Runtime::Rename(const std::string& container, const std::string& name) {
  if (!ValidName(name)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Invalid container name (", name, "), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"));
  }
  ASSIGN_OR_RETURN(std::shared_ptr<Entry> entry, Find(container));
  absl::WriterMutexLock op(&entry->op_mu);
  ContainerRecord record = RecordOf(*entry);
  {
    absl::MutexLock lock(&mu_);
    auto taken = names_.find(name);
    if (taken != names_.end()) {
      if (taken->second == record.id) {
        return absl::InvalidArgumentError(
            "Renaming a container with the same name as its current name");
      }
      return absl::AlreadyExistsError(absl::StrCat(
          "Conflict. The container name \"/", name, "\" is already in use by container \"",
          taken->second, "\". You have to remove (or rename) that container to be able to "
          "reuse that name."));
    }
    names_.erase(record.name);
    names_[name] = record.id;
  }
  absl::MutexLock lock(&entry->mu);
  const std::string old_name = entry->record.name;
  entry->record.name = name;
  absl::Status persisted = Persist(entry->record);
  if (!persisted.ok()) {
    entry->record.name = old_name;
    absl::MutexLock names_lock(&mu_);
    names_.erase(name);
    names_[old_name] = record.id;
    return persisted;
  }
  STRATA_LOG(INFO) << "renamed container " << old_name << " to " << name;
  return absl::OkStatus();
}

std::vector<ContainerRecord> Runtime::List(bool all) {
  std::vector<std::shared_ptr<Entry>> entries;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [id, entry] : containers_) entries.push_back(entry);
  }
  std::vector<ContainerRecord> records;
  for (const auto& entry : entries) {
    absl::MutexLock lock(&entry->mu);
    if (all || IsRunning(entry->record.state)) records.push_back(entry->record);
  }
  std::sort(records.begin(), records.end(), [](const auto& a, const auto& b) {
    return a.created != b.created ? a.created > b.created : a.id < b.id;
  });
  return records;
}

std::vector<std::string> Runtime::AutoRemoved() {
  absl::MutexLock lock(&mu_);
  return std::vector<std::string>(auto_removed_.begin(), auto_removed_.end());
}

absl::StatusOr<ContainerRecord> Runtime::Inspect(const std::string& container) {
  ASSIGN_OR_RETURN(std::shared_ptr<Entry> entry, Find(container));
  absl::MutexLock lock(&entry->mu);
  return entry->record;
}

absl::StatusOr<std::unique_ptr<ProcessStream>> Runtime::Attach(const std::string& container,
                                                               bool stdin,
                                                               std::optional<int64_t> log_offset) {
  ASSIGN_OR_RETURN(std::shared_ptr<Entry> entry, Find(container));
  ContainerRecord record = RecordOf(*entry);
  const ContainerPaths paths = layout_.Container(record.id);
  const std::string& log = paths.main.log;
  auto exit_info = ExitInfoOnceExited(entry);
  if (record.state == ContainerState::kCreated) {
    return absl::FailedPreconditionError(
        absl::StrCat("container \"", record.name, "\" has not been started"));
  }
  if (!IsRunning(record.state) && !log_offset) {
    return absl::FailedPreconditionError(
        absl::StrCat("container \"", record.name, "\" is not running: start it first"));
  }
  // Live output only is a replay from the log's current end: either way the position in the
  // log is known, so nothing is lost if the monitor finishes as we connect.
  struct stat st;
  const int64_t offset =
      log_offset ? *log_offset : (::stat(log.c_str(), &st) == 0 ? st.st_size : 0);
  {
    absl::MutexLock lock(&entry->mu);
    ++entry->attached;
  }
  auto detach = [entry] {
    absl::MutexLock lock(&entry->mu);
    --entry->attached;
    entry->changed.SignalAll();
  };
  if (IsRunning(record.state)) {
    absl::StatusOr<std::unique_ptr<MonitorConnection>> connection =
        MonitorConnection::Connect(paths.main.socket, stdin && record.open_stdin, offset);
    if (connection.ok()) {
      return WithCleanup(NewMonitorStream(std::move(*connection), log, offset, exit_info),
                         detach);
    }
    // It ended between our look and the connection: serve what it left.
  }
  return WithCleanup(NewLogStream(log, offset, exit_info), detach);
}

absl::StatusOr<std::unique_ptr<ProcessStream>> Runtime::Exec(const std::string& container,
                                                             const ExecSpec& spec) {
  if (spec.args.empty()) return absl::InvalidArgumentError("exec: no command given");
  ASSIGN_OR_RETURN(std::shared_ptr<Entry> entry, Find(container));
  // Shared: a Remove (exclusive) waits until the exec's monitor is started, and then kills it
  // with the container.
  absl::ReaderMutexLock op(&entry->op_mu);
  ContainerRecord record = RecordOf(*entry);
  if (record.state != ContainerState::kRunning) {
    return absl::FailedPreconditionError(absl::StrCat("container \"", record.name, "\" is ",
                                                      StateName(record.state), ", not running"));
  }
  const ContainerPaths paths = layout_.Container(record.id);
  UniqueFd rootfs(::open(paths.rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!rootfs.valid()) return ErrnoStatus(errno, "open rootfs");
  absl::StatusOr<ProcessSpec> process = BuildProcessSpec(
      rootfs.get(),
      {.args = spec.args,
       .env = record.spec.env,
       .env_overrides = spec.env,
       .working_dir = spec.working_dir.empty() ? record.spec.working_dir : spec.working_dir,
       .user = spec.user.empty() ? record.spec.user : spec.user,
       .hostname = record.hostname,
       .terminal = spec.tty,
       .rows = spec.size.rows,
       .cols = spec.size.cols});
  if (!process.ok()) {
    return Annotate(process.status(), absl::StrCat("container \"", record.name, "\""));
  }

  const ProcessPaths exec = layout_.Exec(record.id, RandomHex(16));
  RETURN_IF_ERROR(MakeDirs(exec.dir, 0700));
  const std::string exec_dir = exec.dir;
  auto cleanup = [exec_dir](absl::Status status) {
    (void)RemoveAll(exec_dir);
    return status;
  };
  absl::Status written = WriteFileAtomically(exec.process_file, ProcessJson(*process).dump());
  if (!written.ok()) return cleanup(written);
  absl::StatusOr<int> pid = LaunchMonitor(MonitorArgv({.monitor = options_.monitor,
                                                       .runc = options_.runc,
                                                       .runc_root = layout_.runc_root(),
                                                       .id = record.id,
                                                       .mode = "exec",
                                                       .paths = exec,
                                                       .tty = spec.tty,
                                                       .open_stdin = spec.stdin}),
                                          kMonitorStartTimeout);
  if (!pid.ok()) {
    return cleanup(Annotate(pid.status(), absl::StrCat("exec in container \"", record.name, "\"")));
  }
  const std::string exit_file = exec.exit_file;
  auto exit_info = [this, exit_file]() { return ReadExitFile(exit_file); };
  absl::StatusOr<std::unique_ptr<MonitorConnection>> connection =
      MonitorConnection::Connect(exec.socket, spec.stdin, 0);
  std::unique_ptr<ProcessStream> stream;
  if (connection.ok()) {
    stream = NewMonitorStream(std::move(*connection), exec.log, 0, exit_info);
  } else {
    stream = NewLogStream(exec.log, 0, exit_info);  // it already ended
  }
  return WithCleanup(std::move(stream), [exec_dir] { (void)RemoveAll(exec_dir); });
}

}  // namespace strata::runtime
