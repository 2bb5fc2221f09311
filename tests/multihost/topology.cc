#include "tests/multihost/topology.h"

#include <dirent.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "lib/base/errors.h"
#include "lib/base/fs.h"
#include "lib/testing/subprocess.h"
#include "services/runtime/testing/runtime_fixture.h"

namespace strata::multihost {

using strata::testing::RunfilePath;
using strata::testing::ServiceProcess;

std::string LayerstoreIp(int i) { return absl::StrCat("127.0.", 1 + i, ".1"); }
std::string ImagegraphIp(int i) { return absl::StrCat("127.0.", 11 + i, ".1"); }
std::string NodeIp(int i) { return absl::StrCat("127.0.", 21 + i, ".1"); }

namespace {

std::string NodeName(int i) { return "node-" + std::string(1, static_cast<char>('a' + i)); }

// "ipv4:A,B" from every replica's address.
template <typename Replicas>
std::string TargetOf(const Replicas& replicas) {
  std::vector<std::string> addresses;
  for (const auto& replica : replicas) addresses.push_back(replica.address);
  return "ipv4:" + absl::StrJoin(addresses, ",");
}

// The mount namespace of a process ("mnt:[4026531840]").
std::string MountNamespaceOf(pid_t pid) {
  char target[64] = {};
  const std::string link = absl::StrCat("/proc/", pid, "/ns/mnt");
  ssize_t length = ::readlink(link.c_str(), target, sizeof(target) - 1);
  return length > 0 ? std::string(target, static_cast<size_t>(length)) : std::string();
}

// SIGKILLs every process in the mount namespace of `holder` but the holder (a node's
// monitors, should any outlive their containers).
void KillNamespace(pid_t holder) {
  const std::string ns = MountNamespaceOf(holder);
  if (ns.empty()) return;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return;
  while (struct dirent* entry = ::readdir(proc)) {
    char* end = nullptr;
    const long pid = std::strtol(entry->d_name, &end, 10);
    if (*end != '\0' || pid <= 0 || pid == holder) continue;
    if (MountNamespaceOf(static_cast<pid_t>(pid)) == ns) ::kill(static_cast<pid_t>(pid), SIGKILL);
  }
  ::closedir(proc);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Topology>> Topology::Start(TopologyOptions options) {
  std::unique_ptr<Topology> topology(new Topology());
  topology->options_ = std::move(options);
  std::string short_dir = "/tmp/strata-mh.XXXXXX";
  if (::mkdtemp(short_dir.data()) == nullptr) return ErrnoStatus(errno, "mkdtemp");
  topology->short_dir_ = short_dir;
  RETURN_IF_ERROR(topology->MakeCertificates());
  ASSIGN_OR_RETURN(topology->postgres_, strata::testing::PostgresServer::Start());

  std::vector<std::string> backend = {"--root=" + topology->store_dir()};
  if (topology->options_.layerstore_backend) {
    backend = topology->options_.layerstore_backend(topology->dir_.path());
  }
  topology->layerstores_.resize(topology->options_.layerstores);
  for (int i = 0; i < topology->options_.layerstores; ++i) {
    std::vector<std::string> argv = {RunfilePath("services/layerstore/strata-layerstore"),
                                     "--listen=" + LayerstoreIp(i) + ":0"};
    for (const std::string& flag : topology->ServerTls("layerstore")) argv.push_back(flag);
    argv.insert(argv.end(), backend.begin(), backend.end());
    RETURN_IF_ERROR(topology->Launch(topology->layerstores_[i], argv));
  }
  topology->imagegraphs_.resize(topology->options_.imagegraphs);
  for (int i = 0; i < topology->options_.imagegraphs; ++i) {
    std::vector<std::string> argv = {RunfilePath("services/imagegraph/strata-imagegraph"),
                                     "--listen=" + ImagegraphIp(i) + ":0",
                                     "--database=" + topology->postgres_->connection_string()};
    for (const std::string& flag : topology->ServerTls("imagegraph")) argv.push_back(flag);
    RETURN_IF_ERROR(topology->Launch(topology->imagegraphs_[i], argv));
  }
  topology->layerstore_target_ = TargetOf(topology->layerstores_);
  topology->imagegraph_target_ = TargetOf(topology->imagegraphs_);
  topology->nodes_.resize(topology->options_.nodes);
  for (int i = 0; i < topology->options_.nodes; ++i) RETURN_IF_ERROR(topology->StartNode(i));
  return topology;
}

absl::Status Topology::MakeCertificates() {
  const std::string certs = RunfilePath("deploy/certs.sh");
  const std::string pki = dir_.Join("pki");
  RETURN_IF_ERROR(RunCommandOk({certs, "--dir", pki, "ca"}));
  // One certificate per service, naming every replica's address: clients check each replica
  // against the first address of their target (lib/rpc/client.h).
  std::vector<std::string> layerstore = {certs, "--dir", pki, "server", "layerstore"};
  for (int i = 0; i < options_.layerstores; ++i) layerstore.push_back("IP:" + LayerstoreIp(i));
  RETURN_IF_ERROR(RunCommandOk(layerstore));
  std::vector<std::string> imagegraph = {certs, "--dir", pki, "server", "imagegraph"};
  for (int i = 0; i < options_.imagegraphs; ++i) imagegraph.push_back("IP:" + ImagegraphIp(i));
  RETURN_IF_ERROR(RunCommandOk(imagegraph));
  for (int i = 0; i < options_.nodes; ++i) {
    RETURN_IF_ERROR(RunCommandOk({certs, "--dir", pki, "server", NodeName(i), "IP:" + NodeIp(i)}));
  }
  RETURN_IF_ERROR(RunCommandOk({certs, "--dir", pki, "client", "tester"}));
  return WriteFileAtomically(dir_.Join("token"), "multihost-token\n", 0600);
}

std::vector<std::string> Topology::ServerTls(const std::string& name) const {
  const std::string pki = dir_.Join("pki/");
  return {"--tls-cert=" + pki + name + ".crt", "--tls-key=" + pki + name + ".key",
          "--tls-client-ca=" + pki + "ca.crt", "--auth-token-file=" + dir_.Join("token")};
}

absl::Status Topology::Launch(Replica& replica, std::vector<std::string> argv) {
  ASSIGN_OR_RETURN(replica.process, ServiceProcess::StartCommand(argv));
  replica.address = replica.process->address();
  // Restarts come back on the same port: clients keep the address they were given.
  for (std::string& arg : argv) {
    if (absl::StartsWith(arg, "--listen=")) arg = "--listen=" + replica.address;
  }
  replica.argv = std::move(argv);
  return absl::OkStatus();
}

absl::Status Topology::Restart(Replica& replica) {
  replica.process.reset();
  ASSIGN_OR_RETURN(replica.process, ServiceProcess::StartCommand(replica.argv));
  if (replica.process->address() != replica.address) {
    return absl::InternalError(
        absl::StrCat("restarted on ", replica.process->address(), ", not ", replica.address));
  }
  return absl::OkStatus();
}

std::string Topology::NodeLog(int node) const {
  absl::StatusOr<std::string> log = ReadFile(nodes_[node].process->log_path());
  return log.ok() ? *log : std::string();
}

std::string Topology::node_state(int node) const {
  return absl::StrCat(short_dir_, "/", NodeName(node));
}

absl::Status Topology::StartNode(int node) {
  const std::string state = node_state(node);
  RETURN_IF_ERROR(MakeDirs(state));
  // The node's namespace lives as long as this process: a tmpfs mounted in it is the node's
  // disk, invisible to the other nodes and to the host (where `state` stays an empty
  // directory). It announces itself the way ServiceProcess waits for.
  ASSIGN_OR_RETURN(
      std::unique_ptr<ServiceProcess> holder,
      ServiceProcess::StartCommand(
          {"/usr/bin/unshare", "--mount", "--propagation", "private", "/bin/sh", "-c",
           absl::StrCat("mount -t tmpfs -o mode=0755 strata-", NodeName(node), " ", state,
                        " && mkdir ", state, "/root ", state, "/run && echo listening on ", state,
                        " && exec sleep infinity")}));
  const std::string pki = dir_.Join("pki/");
  std::vector<std::string> argv = {"/usr/bin/nsenter",
                                   "-t",
                                   absl::StrCat(holder->pid()),
                                   "-m",
                                   "--",
                                   RunfilePath("services/runtime/strata-runtime"),
                                   "--listen=" + NodeIp(node) + ":0"};
  for (const std::string& flag : ServerTls(NodeName(node))) argv.push_back(flag);
  for (const std::string& flag :
       {"--root=" + state + "/root", "--run-dir=" + state + "/run",
        "--monitor=" + RunfilePath("services/runtime/monitor/strata-runtime-monitor"),
        "--layerstore=" + layerstore_target_, "--layerstore-tls-ca=" + pki + "ca.crt",
        "--layerstore-tls-cert=" + pki + NodeName(node) + ".crt",
        "--layerstore-tls-key=" + pki + NodeName(node) + ".key",
        "--layerstore-token-file=" + dir_.Join("token")}) {
    argv.push_back(flag);
  }
  holders_.push_back(std::move(holder));
  return Launch(nodes_[node], argv);
}

absl::Status Topology::RestartNode(int node, bool hard) {
  nodes_[node].process->Stop(hard);
  return Restart(nodes_[node]);
}

absl::StatusOr<CommandResult> Topology::InNode(int node, const std::string& script) {
  return RunCommand({"/usr/bin/nsenter", "-t", absl::StrCat(holders_[node]->pid()), "-m", "--",
                     "/bin/sh", "-c", script},
                    {.separate_stderr = true});
}

std::vector<std::string> Topology::Env(int node) const {
  const std::string pki = dir_.Join("pki/");
  return {"STRATA_RUNTIME=" + nodes_[node].address,  "STRATA_LAYERSTORE=" + layerstore_target_,
          "STRATA_IMAGEGRAPH=" + imagegraph_target_, "STRATA_TLS_CA=" + pki + "ca.crt",
          "STRATA_TLS_CERT=" + pki + "tester.crt",   "STRATA_TLS_KEY=" + pki + "tester.key",
          "STRATA_TOKEN_FILE=" + dir_.Join("token")};
}

CommandResult Topology::Strata(int node, const std::vector<std::string>& args,
                               const std::string& stdin_data) {
  std::vector<std::string> argv = {RunfilePath("cli/strata")};
  argv.insert(argv.end(), args.begin(), args.end());
  absl::StatusOr<CommandResult> result =
      RunCommand(argv, {.env = Env(node), .stdin_data = stdin_data, .separate_stderr = true});
  if (!result.ok()) return CommandResult{-1, "", std::string(result.status().message())};
  return *result;
}

absl::StatusOr<std::string> Topology::BusyboxTarball() {
  const std::string rootfs = dir_.Join("busybox-rootfs");
  const std::string path = dir_.Join("busybox.tar.zst");
  if (PathExists(path)) return path;
  RETURN_IF_ERROR(MakeDirs(rootfs));
  runtime::testing::BuildBusyboxRootfs(rootfs);
  RETURN_IF_ERROR(WriteFileAtomically(rootfs + "/etc/keep", "keep\n"));
  RETURN_IF_ERROR(RunCommandOk(
      {"/bin/sh", "-c", absl::StrCat("tar -C ", rootfs, " -cf - . | zstd -q -c > ", path)}));
  return path;
}

Topology::~Topology() {
  for (int node = 0; node < static_cast<int>(nodes_.size()); ++node) {
    if (nodes_[node].process == nullptr) continue;
    CommandResult listing = Strata(node, {"ps", "-aq", "--no-trunc"});
    for (absl::string_view id : absl::StrSplit(listing.output, '\n', absl::SkipEmpty())) {
      Strata(node, {"rm", "-f", std::string(id)});
    }
    nodes_[node].process.reset();
  }
  for (std::unique_ptr<ServiceProcess>& holder : holders_) {
    KillNamespace(holder->pid());
    holder.reset();
  }
  layerstores_.clear();
  imagegraphs_.clear();
  postgres_.reset();
  if (!short_dir_.empty()) (void)RemoveAll(short_dir_);
}

}  // namespace strata::multihost
