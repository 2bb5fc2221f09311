#ifndef STRATA_SERVICES_RUNTIME_CORE_NODE_LAYOUT_H_
#define STRATA_SERVICES_RUNTIME_CORE_NODE_LAYOUT_H_

// Where a runtime node keeps everything, from its two roots: the state directory (--root:
// containers, snapshots, runc's state; survives restarts) and the run directory (--run-dir:
// the monitors' unix sockets, kept short because sun_path holds 107 bytes). The one place
// that joins these paths, so the runtime, its recovery and its tests agree on them.

#include <string>

namespace strata::runtime {

// The files of one process run by a monitor: a container's main process (in the container's
// own directory) or one started by exec (in exec/<exec id>/ below it).
struct ProcessPaths {
  std::string dir;
  // The monitor's attach socket.
  std::string socket;
  // Output frames (services/runtime/monitor/frames.h), the exit status, the monitor's log.
  std::string log;
  std::string exit_file;
  std::string monitor_log;
  // exec only: the OCI process object runc exec reads.
  std::string process_file;
};

// One container's directory.
struct ContainerPaths {
  std::string dir;
  // The record (container.json).
  std::string record;
  // The overlay: its mount point, writable layer, overlay work dir, and the init layer that
  // holds the mount points runc needs (so they never show in diff or commit).
  std::string rootfs;
  std::string upper;
  std::string work;
  std::string init;
  // runc's bundle (config.json inside) and the files bind-mounted over /etc.
  std::string bundle;
  std::string bundle_config;
  std::string hosts;
  std::string hostname;
  std::string resolv_conf;
  // The main process.
  ProcessPaths main;
};

class NodeLayout {
 public:
  NodeLayout(std::string root, std::string run_dir)
      : root_(std::move(root)), run_dir_(std::move(run_dir)) {}

  const std::string& root() const { return root_; }
  const std::string& run_dir() const { return run_dir_; }
  std::string containers_dir() const { return root_ + "/containers"; }
  // runc's --root, and the state it keeps there for one container.
  std::string runc_root() const { return root_ + "/runc"; }
  std::string RuncState(const std::string& id) const { return runc_root() + "/" + id; }

  ContainerPaths Container(const std::string& id) const;
  // The files of exec `exec_id` in container `id`.
  ProcessPaths Exec(const std::string& id, const std::string& exec_id) const;

 private:
  std::string root_;
  std::string run_dir_;
};

}  // namespace strata::runtime

#endif  // STRATA_SERVICES_RUNTIME_CORE_NODE_LAYOUT_H_
