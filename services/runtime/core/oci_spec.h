#ifndef STRATA_SERVICES_RUNTIME_CORE_OCI_SPEC_H_
#define STRATA_SERVICES_RUNTIME_CORE_OCI_SPEC_H_

// The OCI runtime configuration (config.json) runc runs a container with, and the lookups
// it needs inside the container's file system: the user (from its /etc/passwd and
// /etc/group) and the executable (along its PATH). Every lookup resolves inside the
// container's root only.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace strata::runtime {

// The PATH docker gives a process whose image sets none.
inline constexpr char kDefaultPath[] =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

struct ProcessUser {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::vector<uint32_t> additional_gids;
  // From the passwd entry, "/" when there is none.
  std::string home = "/";
};

// Resolves "", "user", "uid", "user:group", "uid:gid" (and mixes) as docker does: names must
// exist in the container's /etc/passwd or /etc/group; numbers need not.
// Errors: FAILED_PRECONDITION naming the user or group that is not there.
absl::StatusOr<ProcessUser> ResolveUser(int rootfs_fd, const std::string& user);

// Checks that program (an absolute or relative path, or a name looked up along path_env)
// is an executable file inside the container.
// Errors: FAILED_PRECONDITION `executable file "x" not found in $PATH` (or "...: no such
// file", "...: permission denied").
absl::Status CheckExecutable(int rootfs_fd, const std::string& program,
                             const std::string& path_env, const std::string& cwd);

struct ProcessSpec {
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::string cwd = "/";
  ProcessUser user;
  bool terminal = false;
  uint16_t rows = 0;
  uint16_t cols = 0;
};

// The "process" object of config.json (also what `runc exec --process` reads): Docker's
// default capabilities, and RLIMIT_NOFILE at the host's hard limit (never above it: runc
// fails with EPERM when asked for more).
nlohmann::json ProcessJson(const ProcessSpec& process);

struct BundleSpec {
  std::string rootfs;
  std::string hostname;
  // "host" or "none" (a network namespace of its own).
  std::string network = "host";
  // Files bind-mounted over /etc/hosts, /etc/hostname and /etc/resolv.conf.
  std::string hosts_file;
  std::string hostname_file;
  std::string resolv_file;
  std::string cgroups_path;
  ProcessSpec process;
  // Bind mounts and tmpfs, after the standard ones.
  struct Mount {
    std::string type;
    std::string source;
    std::string target;
    bool readonly = false;
    std::vector<std::string> options;
  };
  std::vector<Mount> mounts;
};

std::string RuntimeConfigJson(const BundleSpec& bundle);

}  // namespace strata::runtime

#endif  // STRATA_SERVICES_RUNTIME_CORE_OCI_SPEC_H_
