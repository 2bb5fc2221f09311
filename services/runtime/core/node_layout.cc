#include "services/runtime/core/node_layout.h"

#include "absl/strings/str_cat.h"

namespace strata::runtime {

ContainerPaths NodeLayout::Container(const std::string& id) const {
  ContainerPaths paths;
  paths.dir = absl::StrCat(containers_dir(), "/", id);
  paths.record = paths.dir + "/container.json";
  paths.rootfs = paths.dir + "/rootfs";
  paths.upper = paths.dir + "/upper";
  paths.work = paths.dir + "/work";
  paths.init = paths.dir + "/init";
  paths.bundle = paths.dir + "/bundle";
  paths.bundle_config = paths.bundle + "/config.json";
  paths.hosts = paths.dir + "/hosts";
  paths.hostname = paths.dir + "/hostname";
  paths.resolv_conf = paths.dir + "/resolv.conf";
  paths.main.dir = paths.dir;
  paths.main.socket = absl::StrCat(run_dir_, "/", id.substr(0, 32), ".sock");
  paths.main.log = paths.dir + "/log";
  paths.main.exit_file = paths.dir + "/exit.json";
  paths.main.monitor_log = paths.dir + "/monitor.log";
  return paths;
}

ProcessPaths NodeLayout::Exec(const std::string& id, const std::string& exec_id) const {
  ProcessPaths paths;
  paths.dir = absl::StrCat(containers_dir(), "/", id, "/exec/", exec_id);
  paths.socket = absl::StrCat(run_dir_, "/", id.substr(0, 16), "-", exec_id, ".sock");
  paths.log = paths.dir + "/log";
  paths.exit_file = paths.dir + "/exit.json";
  paths.monitor_log = paths.dir + "/monitor.log";
  paths.process_file = paths.dir + "/process.json";
  return paths;
}

}  // namespace strata::runtime
