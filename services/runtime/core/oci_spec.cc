#include "services/runtime/core/oci_spec.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "lib/base/errors.h"
#include "lib/base/fs.h"
#include "lib/layer/safe_fs.h"

namespace strata::runtime {
namespace {

using nlohmann::json;

// Reads a small file of the container (passwd, group); a missing file reads as empty.
std::string ReadContainerFile(int rootfs_fd, const std::string& path) {
  // The container controls these files: a FIFO must not hang us, a device must not be read.
  absl::StatusOr<UniqueFd> fd = layer::OpenInRoot(rootfs_fd, path, O_RDONLY | O_NONBLOCK);
  if (!fd.ok()) return "";
  struct stat st;
  if (::fstat(fd->get(), &st) != 0 || !S_ISREG(st.st_mode)) return "";
  std::string contents;
  char buffer[8192];
  for (;;) {
    ssize_t n = ::read(fd->get(), buffer, sizeof(buffer));
    if (n <= 0 || contents.size() > (4 << 20)) break;
    contents.append(buffer, static_cast<size_t>(n));
  }
  return contents;
}

struct PasswdEntry {
  std::string name;
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::string home;
};

struct GroupEntry {
  std::string name;
  uint32_t gid = 0;
  std::vector<std::string> members;
};

std::vector<PasswdEntry> ParsePasswd(const std::string& text) {
  std::vector<PasswdEntry> entries;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    std::vector<std::string> fields = absl::StrSplit(line, ':');
    if (fields.size() < 7) continue;
    PasswdEntry entry;
    entry.name = fields[0];
    if (!absl::SimpleAtoi(fields[2], &entry.uid) || !absl::SimpleAtoi(fields[3], &entry.gid)) {
      continue;
    }
    entry.home = fields[5];
    entries.push_back(std::move(entry));
  }
  return entries;
}

std::vector<GroupEntry> ParseGroup(const std::string& text) {
  std::vector<GroupEntry> entries;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    std::vector<std::string> fields = absl::StrSplit(line, ':');
    if (fields.size() < 4) continue;
    GroupEntry entry;
    entry.name = fields[0];
    if (!absl::SimpleAtoi(fields[2], &entry.gid)) continue;
    entry.members = absl::StrSplit(fields[3], ',', absl::SkipEmpty());
    entries.push_back(std::move(entry));
  }
  return entries;
}

json Capabilities() {
  const std::vector<std::string> docker_defaults = {
      "CAP_CHOWN",       "CAP_DAC_OVERRIDE",     "CAP_FSETID",      "CAP_FOWNER",
      "CAP_MKNOD",       "CAP_NET_RAW",          "CAP_SETGID",      "CAP_SETUID",
      "CAP_SETFCAP",     "CAP_SETPCAP",          "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
      "CAP_KILL",        "CAP_AUDIT_WRITE"};
  return {{"bounding", docker_defaults},
          {"effective", docker_defaults},
          {"permitted", docker_defaults}};
}

uint64_t HostHardLimit(int resource, uint64_t cap) {
  struct rlimit limit {};
  if (::getrlimit(resource, &limit) != 0) return 1024;
  if (limit.rlim_max == RLIM_INFINITY) return cap;
  return std::min<uint64_t>(limit.rlim_max, cap);
}

}  // namespace

absl::StatusOr<ProcessUser> ResolveUser(int rootfs_fd, const std::string& user) {
  ProcessUser result;
  if (user.empty()) return result;
  const size_t colon = user.find(':');
  const std::string user_part = user.substr(0, colon);
  const std::string group_part = colon == std::string::npos ? "" : user.substr(colon + 1);
  const std::vector<PasswdEntry> passwd = ParsePasswd(ReadContainerFile(rootfs_fd, "etc/passwd"));
  const std::vector<GroupEntry> groups = ParseGroup(ReadContainerFile(rootfs_fd, "etc/group"));

  const PasswdEntry* found = nullptr;
  uint32_t numeric = 0;
  const bool user_is_number = absl::SimpleAtoi(user_part, &numeric);
  for (const PasswdEntry& entry : passwd) {
    if (user_is_number ? entry.uid == numeric : entry.name == user_part) {
      found = &entry;
      break;
    }
  }
  if (found == nullptr && !user_is_number) {
    return absl::FailedPreconditionError(absl::StrCat(
        "unable to find user ", user_part, ": no matching entries in passwd file"));
  }
  result.uid = found ? found->uid : numeric;
  result.gid = found ? found->gid : 0;
  if (found && !found->home.empty()) result.home = found->home;

  if (!group_part.empty()) {
    uint32_t gid = 0;
    if (absl::SimpleAtoi(group_part, &gid)) {
      result.gid = gid;
    } else {
      auto it = std::find_if(groups.begin(), groups.end(),
                             [&](const GroupEntry& g) { return g.name == group_part; });
      if (it == groups.end()) {
        return absl::FailedPreconditionError(absl::StrCat(
            "unable to find group ", group_part, ": no matching entries in group file"));
      }
      result.gid = it->gid;
    }
  }
  if (found) {
    for (const GroupEntry& group : groups) {
      if (group.gid != result.gid &&
          std::find(group.members.begin(), group.members.end(), found->name) !=
              group.members.end()) {
        result.additional_gids.push_back(group.gid);
      }
    }
  }
  return result;
}

absl::Status CheckExecutable(int rootfs_fd, const std::string& program,
                             const std::string& path_env, const std::string& cwd) {
  auto executable = [rootfs_fd](const std::string& candidate) -> absl::Status {
    absl::StatusOr<std::string> cleaned = layer::CleanPath(candidate);
    if (!cleaned.ok()) return absl::NotFoundError("outside the container");
    absl::StatusOr<UniqueFd> fd = layer::OpenInRoot(rootfs_fd, *cleaned, O_PATH);
    if (!fd.ok()) return absl::NotFoundError("no such file or directory");
    struct stat st;
    if (::fstat(fd->get(), &st) != 0) return ErrnoStatus(errno, "stat");
    if (!S_ISREG(st.st_mode) || (st.st_mode & 0111) == 0) {
      return absl::PermissionDeniedError("permission denied");
    }
    return absl::OkStatus();
  };
  if (program.empty()) return absl::InvalidArgumentError("empty command");
  if (program.find('/') != std::string::npos) {
    const std::string path = program[0] == '/' ? program : absl::StrCat(cwd, "/", program);
    absl::Status status = executable(path);
    if (!status.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat("exec: \"", program, "\": ", status.message()));
    }
    return absl::OkStatus();
  }
  for (absl::string_view dir : absl::StrSplit(path_env, ':', absl::SkipEmpty())) {
    if (executable(absl::StrCat(dir, "/", program)).ok()) return absl::OkStatus();
  }
  return absl::FailedPreconditionError(
      absl::StrCat("exec: \"", program, "\": executable file not found in $PATH"));
}

json ProcessJson(const ProcessSpec& process) {
  const uint64_t nofile = HostHardLimit(RLIMIT_NOFILE, 1 << 20);
  json user = {{"uid", process.user.uid}, {"gid", process.user.gid}};
  if (!process.user.additional_gids.empty()) {
    user["additionalGids"] = process.user.additional_gids;
  }
  json out = {
      {"terminal", process.terminal},
      {"user", user},
      {"args", process.args},
      {"env", process.env},
      {"cwd", process.cwd.empty() ? "/" : process.cwd},
      {"capabilities", Capabilities()},
      {"rlimits", json::array({{{"type", "RLIMIT_NOFILE"}, {"hard", nofile}, {"soft", nofile}}})},
      {"noNewPrivileges", false},
  };
  if (process.terminal && process.rows > 0 && process.cols > 0) {
    out["consoleSize"] = {{"height", process.rows}, {"width", process.cols}};
  }
  return out;
}

std::string RuntimeConfigJson(const BundleSpec& bundle) {
  json namespaces = json::array({{{"type", "pid"}}, {{"type", "ipc"}}, {{"type", "uts"}},
                                 {{"type", "mount"}}});
  if (bundle.network == "none") namespaces.push_back({{"type", "network"}});
  auto bind = [](const std::string& destination, const std::string& source) {
    return json{{"destination", destination},
                {"type", "bind"},
                {"source", source},
                {"options", {"rbind", "rprivate"}}};
  };
  json mounts = json::array({
      {{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}},
      {{"destination", "/dev"},
       {"type", "tmpfs"},
       {"source", "tmpfs"},
       {"options", {"nosuid", "strictatime", "mode=755", "size=65536k"}}},
      {{"destination", "/dev/pts"},
       {"type", "devpts"},
       {"source", "devpts"},
       {"options", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}}},
      {{"destination", "/dev/shm"},
       {"type", "tmpfs"},
       {"source", "shm"},
       {"options", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}}},
      {{"destination", "/dev/mqueue"},
       {"type", "mqueue"},
       {"source", "mqueue"},
       {"options", {"nosuid", "noexec", "nodev"}}},
      {{"destination", "/sys"},
       {"type", "sysfs"},
       {"source", "sysfs"},
       {"options", {"nosuid", "noexec", "nodev", "ro"}}},
      {{"destination", "/sys/fs/cgroup"},
       {"type", "cgroup"},
       {"source", "cgroup"},
       {"options", {"nosuid", "noexec", "nodev", "relatime", "ro"}}},
      bind("/etc/hosts", bundle.hosts_file),
      bind("/etc/hostname", bundle.hostname_file),
      bind("/etc/resolv.conf", bundle.resolv_file),
  });
  for (const BundleSpec::Mount& mount : bundle.mounts) {
    std::vector<std::string> options;
    if (mount.type == "bind") {
      options = {"rbind", "rprivate"};
    } else {
      options = {"nosuid", "nodev"};
    }
    options.insert(options.end(), mount.options.begin(), mount.options.end());
    options.push_back(mount.readonly ? "ro" : "rw");
    mounts.push_back({{"destination", mount.target},
                      {"type", mount.type},
                      {"source", mount.type == "bind" ? mount.source : "tmpfs"},
                      {"options", options}});
  }
  json config = {
      {"ociVersion", "1.0.2"},
      {"process", ProcessJson(bundle.process)},
      {"root", {{"path", bundle.rootfs}, {"readonly", false}}},
      {"hostname", bundle.hostname},
      {"mounts", mounts},
      {"linux",
       {{"namespaces", namespaces},
        {"cgroupsPath", bundle.cgroups_path},
        {"resources", {{"devices", json::array({{{"allow", false}, {"access", "rwm"}}})}}},
        {"maskedPaths",
         {"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
          "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
          "/proc/scsi"}},
        {"readonlyPaths",
         {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}}}},
  };
  return config.dump(2);
}

}  // namespace strata::runtime
