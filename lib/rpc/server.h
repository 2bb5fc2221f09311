#ifndef STRATA_LIB_RPC_SERVER_H_
#define STRATA_LIB_RPC_SERVER_H_

// ServiceHost runs gRPC services the way every Strata binary does: on one listening address,
// with grpc.health.v1 (each service and "" SERVING once started, NOT_SERVING while a
// dependency the services cannot work without fails its check), server reflection (so
// grpcurl-style tools can list and call every RPC), message limits from limits.h, and
// optional TLS (with client certificates) and bearer-token authentication. It listens on a
// unix socket (mode 0660, root and the socket group: access is who may open it) or on TCP,
// where plaintext must be asked for explicitly.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/server.h"

namespace strata::rpc {

struct ServerOptions {
  // "unix:/path" (the directory is created, mode 0750), or host:port (port 0 picks a free
  // port, see ServiceHost::address()).
  std::string listen;
  // TCP without TLS is refused unless this is set (then a warning is logged): a plaintext
  // port lets anyone who reaches it run root containers.
  bool insecure = false;
  // The group given access to a unix socket (and its directory), when it exists; else only
  // root has it.
  std::string socket_group = "strata";
  // PEM files: serve TLS when both are set.
  std::string tls_cert_file;
  std::string tls_key_file;
  // PEM CA bundle: when set, clients must present a certificate it signed.
  std::string tls_client_ca_file;
  // File holding a token: when set, every call must carry "authorization: Bearer <token>".
  // Requires TLS, so the token never crosses the network in clear text.
  std::string auth_token_file;
  // Memory gRPC may use for its buffers (a resource quota: flow-control windows shrink to
  // stay within it); 0 for no limit.
  int64_t grpc_memory_limit = 0;
};

// A service to host and its full gRPC name (Api::service_full_name()), under which health
// reports it.
struct HostedService {
  std::string name;
  grpc::Service* service;
};

// Something the hosted services cannot work without (imagegraph's database): checked when
// the host starts and then every `interval` on a thread of the host's own. While the check
// fails, health reports NOT_SERVING for every hosted service and for the server (""), so
// load balancers, `strata status` and supervisors see the truth; SERVING again once it
// passes. Each change is logged with the check's error.
struct Dependency {
  // For the log: "PostgreSQL".
  std::string name;
  // OK when the dependency works. Should answer within a few seconds (a short timeout of its
  // own): a check that hangs delays what health reports.
  std::function<absl::Status()> check;
  absl::Duration interval = absl::Seconds(2);
};

class ServiceHost {
 public:
  // Starts serving. The services are not owned and must outlive the host.
  // Errors: INVALID_ARGUMENT (unreadable TLS files, token without TLS, plaintext TCP without
  // `insecure`), UNAVAILABLE (the address could not be bound).
  static absl::StatusOr<std::unique_ptr<ServiceHost>> Start(
      const ServerOptions& options, const std::vector<HostedService>& services,
      std::vector<Dependency> dependencies = {});

  ~ServiceHost();

  // The bound address, with the real port when 0 was asked for ("unix:/path" for a socket).
  const std::string& address() const { return address_; }
  int port() const { return port_; }

  // Stops accepting calls, marks health NOT_SERVING and waits up to grace for calls in flight
  // before cancelling them.
  void Shutdown(absl::Duration grace = absl::Seconds(5));

 private:
  ServiceHost() = default;

  // Runs every dependency's check and sets health from the results.
  void CheckDependencies();
  void WatchDependencies();

  std::unique_ptr<grpc::Server> server_;
  std::vector<std::string> service_names_;
  std::vector<Dependency> dependencies_;
  std::vector<bool> dependency_ok_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread watcher_;
  std::string address_;
  int port_ = 0;
  bool shut_down_ = false;
};

// Blocks SIGINT and SIGTERM for the calling thread and every thread it starts afterwards:
// call at the top of main, then WaitForTerminationSignal() once serving.
void BlockTerminationSignals();

// Waits until SIGINT or SIGTERM arrives and returns its number.
int WaitForTerminationSignal();

// What a service's main does once its services exist: start a ServiceHost (watching the
// dependencies), print
// "listening on <address>" on stdout (tests and scripts read it), serve until SIGINT/SIGTERM,
// shut down gracefully. Returns the process exit code (1 when it could not start).
int ServeUntilSignalled(const std::string& name, const ServerOptions& options,
                        const std::vector<HostedService>& services,
                        std::vector<Dependency> dependencies = {});

}  // namespace strata::rpc

#endif  // STRATA_LIB_RPC_SERVER_H_
