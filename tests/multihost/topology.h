#ifndef STRATA_TESTS_MULTIHOST_TOPOLOGY_H_
#define STRATA_TESTS_MULTIHOST_TOPOLOGY_H_

// Several hosts on one machine: one PostgreSQL, imagegraph and layerstore replicas and runtime
// nodes, each process on a loopback address of its own (127.0.1.1, 127.0.2.1, ...: Linux
// routes all of 127.0.0.0/8 to lo), every connection over mTLS with certificates from
// deploy/certs.sh and a bearer token. Each runtime node keeps its state on a tmpfs mounted in
// a mount namespace of its own, so nodes share nothing through the local disk: what one node
// has, another gets only through layerstore and imagegraph. Clients name every replica of a
// role in one target ("ipv4:127.0.1.1:P,127.0.2.1:Q", round_robin).
//
// Used by tests/multihost and bench/multihost. Needs root (mount namespaces, runc).

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/base/subprocess.h"
#include "lib/testing/postgres.h"
#include "lib/testing/service_process.h"
#include "lib/testing/temp_dir.h"

namespace strata::multihost {

struct TopologyOptions {
  int layerstores = 2;
  int imagegraphs = 2;
  int nodes = 3;
  // The storage flags of every layerstore replica (they must all reach the same store),
  // given the topology's directory. Empty: one directory they share (--root).
  std::function<std::vector<std::string>(const std::string& dir)> layerstore_backend;
};

class Topology {
 public:
  // Makes the certificates, starts PostgreSQL, the replicas and the nodes.
  // Errors: INTERNAL (a process did not start: the message holds its output), others from
  // the file system.
  static absl::StatusOr<std::unique_ptr<Topology>> Start(TopologyOptions options = {});
  // Removes every node's containers, stops everything, removes the namespaces' mounts.
  ~Topology();

  int nodes() const { return static_cast<int>(nodes_.size()); }

  // `strata args...` as a user on node `node` runs it (its runtime; the shared replicas).
  CommandResult Strata(int node, const std::vector<std::string>& args,
                       const std::string& stdin_data = "");
  // The CLI's environment for node `node`: STRATA_RUNTIME, STRATA_LAYERSTORE (every replica),
  // STRATA_IMAGEGRAPH (every replica), STRATA_TLS_*, STRATA_TOKEN_FILE.
  std::vector<std::string> Env(int node) const;

  const std::string& layerstore_target() const { return layerstore_target_; }
  const std::string& imagegraph_target() const { return imagegraph_target_; }
  // The shared blob directory (when the default backend is used).
  std::string store_dir() const { return dir_.Join("store"); }
  strata::testing::PostgresServer& postgres() { return *postgres_; }

  pid_t layerstore_pid(int i) const { return layerstores_[i].process->pid(); }
  pid_t imagegraph_pid(int i) const { return imagegraphs_[i].process->pid(); }
  // SIGKILL (no goodbye to its clients), and starting it again on the same address.
  void KillLayerstore(int i) { layerstores_[i].process->Stop(/*kill_hard=*/true); }
  void KillImagegraph(int i) { imagegraphs_[i].process->Stop(/*kill_hard=*/true); }
  absl::Status RestartLayerstore(int i) { return Restart(layerstores_[i]); }
  absl::Status RestartImagegraph(int i) { return Restart(imagegraphs_[i]); }
  // Stops node `node`'s runtime (SIGTERM, or SIGKILL when hard) and starts it again on the
  // same state, in the same namespace, on the same address. Containers keep running under
  // their monitors meanwhile.
  absl::Status RestartNode(int node, bool hard);

  // Runs `sh -c script` inside node `node`'s mount namespace (to look at its private state).
  absl::StatusOr<CommandResult> InNode(int node, const std::string& script);
  // What node `node`'s runtime has logged so far.
  std::string NodeLog(int node) const;
  // The node's state directory (seen only from inside its namespace).
  std::string node_state(int node) const;

  // A busybox root file system tarball (zstd); its /etc holds keep.
  absl::StatusOr<std::string> BusyboxTarball();

 private:
  // One service process: the argv it was started with (--listen with its real port once it
  // listens), where it listens.
  struct Replica {
    std::vector<std::string> argv;
    std::string address;
    std::unique_ptr<strata::testing::ServiceProcess> process;
  };

  Topology() = default;
  absl::Status MakeCertificates();
  // Starts argv (which holds --listen=IP:0) and pins the port it got in argv.
  absl::Status Launch(Replica& replica, std::vector<std::string> argv);
  absl::Status Restart(Replica& replica);
  absl::Status StartNode(int node);
  // --tls-cert, --tls-key, --tls-client-ca, --auth-token-file for certificate `name`.
  std::vector<std::string> ServerTls(const std::string& name) const;

  TopologyOptions options_;
  strata::testing::TempDir dir_{"multihost"};
  // Short (monitor sockets live under it): /tmp/strata-mh.XXXXXX.
  std::string short_dir_;
  std::unique_ptr<strata::testing::PostgresServer> postgres_;
  std::vector<Replica> layerstores_;
  std::vector<Replica> imagegraphs_;
  std::string layerstore_target_;
  std::string imagegraph_target_;
  // Per node: the process holding its mount namespace, and its runtime.
  std::vector<std::unique_ptr<strata::testing::ServiceProcess>> holders_;
  std::vector<Replica> nodes_;
};

// Loopback address of each process: layerstore i, imagegraph i, node i.
std::string LayerstoreIp(int i);
std::string ImagegraphIp(int i);
std::string NodeIp(int i);

}  // namespace strata::multihost

#endif  // STRATA_TESTS_MULTIHOST_TOPOLOGY_H_
