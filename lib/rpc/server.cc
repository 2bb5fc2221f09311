#include "lib/rpc/server.h"

#include <grp.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/resource_quota.h"
#include "grpcpp/security/auth_metadata_processor.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "lib/base/errors.h"
#include "lib/base/fs.h"
#include "lib/base/log.h"
#include "lib/rpc/limits.h"

namespace strata::rpc {
namespace {

constexpr absl::string_view kUnixPrefix = "unix:";

bool IsUnixAddress(const std::string& listen) { return absl::StartsWith(listen, kUnixPrefix); }

// The socket group's id, or 0 (root's) when the group does not exist.
gid_t SocketGroupId(const std::string& name) {
  if (name.empty()) return 0;
  struct group entry;
  struct group* found = nullptr;
  char buffer[4096];
  if (::getgrnam_r(name.c_str(), &entry, buffer, sizeof(buffer), &found) != 0 || !found) {
    return 0;
  }
  return found->gr_gid;
}

// Makes the socket's directory (0750, root and the group) before gRPC binds in it.
absl::Status PrepareSocketDirectory(const std::string& path, gid_t group) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0) return absl::OkStatus();
  const std::string directory = path.substr(0, slash);
  struct stat st;
  if (::stat(directory.c_str(), &st) != 0) {
    RETURN_IF_ERROR(MakeDirs(directory, 0750));
    if (group != 0 && ::chown(directory.c_str(), static_cast<uid_t>(-1), group) != 0) {
      return ErrnoStatus(errno, absl::StrCat("chown ", directory));
    }
  }
  return absl::OkStatus();
}

// Accepts a call only when its "authorization" metadata is "Bearer <token>".
class BearerTokenProcessor : public grpc::AuthMetadataProcessor {
 public:
  explicit BearerTokenProcessor(std::string token) : expected_(absl::StrCat("Bearer ", token)) {}

  bool IsBlocking() const override { return false; }

  grpc::Status Process(const InputMetadata& auth_metadata, grpc::AuthContext* /*context*/,
                       OutputMetadata* consumed_auth_metadata,
                       OutputMetadata* /*response_metadata*/) override {
    auto it = auth_metadata.find("authorization");
    if (it == auth_metadata.end()) {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                          "no authorization metadata: this server requires a bearer token");
    }
    // Compare every byte, so timing says nothing about how much of the token matched.
    const std::string given(it->second.data(), it->second.size());
    unsigned char difference = given.size() == expected_.size() ? 0 : 1;
    for (size_t i = 0; i < given.size() && i < expected_.size(); ++i) {
      difference |= static_cast<unsigned char>(given[i] ^ expected_[i]);
    }
    if (difference != 0) {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "bearer token rejected");
    }
    consumed_auth_metadata->insert(std::make_pair("authorization", given));
    return grpc::Status::OK;
  }

 private:
  const std::string expected_;
};

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeCredentials(
    const ServerOptions& options) {
  const bool tls = !options.tls_cert_file.empty() || !options.tls_key_file.empty();
  if (!tls) {
    if (!IsUnixAddress(options.listen) && !options.insecure) {
      return absl::InvalidArgumentError(absl::StrCat(
          "refusing to serve plaintext TCP on ", options.listen,
          ": anyone who reaches it could call every RPC; give --tls-cert and --tls-key, listen "
          "on a unix socket (unix:/path), or pass --insecure to accept that"));
    }
    if (!options.auth_token_file.empty()) {
      return absl::InvalidArgumentError(
          "--auth-token-file needs --tls-cert and --tls-key: a bearer token must not cross the "
          "network in clear text");
    }
    if (!options.tls_client_ca_file.empty()) {
      return absl::InvalidArgumentError("--tls-client-ca needs --tls-cert and --tls-key");
    }
    return grpc::InsecureServerCredentials();
  }
  if (options.tls_cert_file.empty() || options.tls_key_file.empty()) {
    return absl::InvalidArgumentError("TLS needs both --tls-cert and --tls-key");
  }
  ASSIGN_OR_RETURN(std::string cert, ReadFile(options.tls_cert_file));
  ASSIGN_OR_RETURN(std::string key, ReadFile(options.tls_key_file));
  grpc::SslServerCredentialsOptions ssl(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  if (!options.tls_client_ca_file.empty()) {
    ASSIGN_OR_RETURN(ssl.pem_root_certs, ReadFile(options.tls_client_ca_file));
    ssl.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  ssl.pem_key_cert_pairs.push_back({key, cert});
  std::shared_ptr<grpc::ServerCredentials> credentials = grpc::SslServerCredentials(ssl);
  if (!options.auth_token_file.empty()) {
    ASSIGN_OR_RETURN(std::string token, ReadFile(options.auth_token_file));
    token = std::string(absl::StripAsciiWhitespace(token));
    if (token.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--auth-token-file ", options.auth_token_file, ": the file is empty"));
    }
    credentials->SetAuthMetadataProcessor(std::make_shared<BearerTokenProcessor>(token));
  }
  return credentials;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ServiceHost>> ServiceHost::Start(
    const ServerOptions& options, const std::vector<HostedService>& services,
    std::vector<Dependency> dependencies) {
  ASSIGN_OR_RETURN(std::shared_ptr<grpc::ServerCredentials> credentials, MakeCredentials(options));
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  std::unique_ptr<ServiceHost> host(new ServiceHost());
  const bool unix_socket = IsUnixAddress(options.listen);
  const std::string socket_path = unix_socket ? options.listen.substr(kUnixPrefix.size()) : "";
  const gid_t socket_group = unix_socket ? SocketGroupId(options.socket_group) : 0;
  if (unix_socket) {
    RETURN_IF_ERROR(PrepareSocketDirectory(socket_path, socket_group));
  } else if (options.tls_cert_file.empty()) {
    STRATA_LOG(WARNING) << "serving plaintext TCP on " << options.listen
                        << " (--insecure): anyone who reaches it can call every RPC";
  }
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen, credentials, &host->port_);
  builder.SetMaxReceiveMessageSize(kMaxMessageSize);
  builder.SetMaxSendMessageSize(kMaxMessageSize);
  if (options.grpc_memory_limit > 0) {
    grpc::ResourceQuota quota("strata-server");
    quota.Resize(static_cast<size_t>(options.grpc_memory_limit));
    builder.SetResourceQuota(quota);
  }
  for (const HostedService& hosted : services) builder.RegisterService(hosted.service);
  // The socket is born 0660: no moment in which any user could connect.
  const mode_t saved_umask = unix_socket ? ::umask(0117) : 0;
  host->server_ = builder.BuildAndStart();
  if (unix_socket) ::umask(saved_umask);
  if (host->server_ == nullptr || host->port_ == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on \"", options.listen, "\""));
  }
  if (unix_socket) {
    if ((socket_group != 0 &&
         ::chown(socket_path.c_str(), static_cast<uid_t>(-1), socket_group) != 0) ||
        ::chmod(socket_path.c_str(), 0660) != 0) {
      return ErrnoStatus(errno, absl::StrCat("setting the owner and mode of ", socket_path));
    }
    host->address_ = options.listen;
  } else {
    const size_t colon = options.listen.rfind(':');
    host->address_ = absl::StrCat(options.listen.substr(0, colon), ":", host->port_);
  }

  grpc::HealthCheckServiceInterface* health = host->server_->GetHealthCheckService();
  for (const HostedService& hosted : services) {
    host->service_names_.push_back(hosted.name);
    health->SetServingStatus(hosted.name, true);
  }
  health->SetServingStatus(true);
  if (!dependencies.empty()) {
    host->dependencies_ = std::move(dependencies);
    host->dependency_ok_.assign(host->dependencies_.size(), true);
    // Once now, so that health is right from the first answer; then on the watcher thread.
    host->CheckDependencies();
    host->watcher_ = std::thread([raw = host.get()] { raw->WatchDependencies(); });
  }
  return host;
}

void ServiceHost::CheckDependencies() {
  bool all_ok = true;
  for (size_t i = 0; i < dependencies_.size(); ++i) {
    const Dependency& dependency = dependencies_[i];
    const absl::Status status = dependency.check();
    if (status.ok() != dependency_ok_[i]) {
      if (status.ok()) {
        STRATA_LOG(INFO) << dependency.name << " works again: health SERVING";
      } else {
        STRATA_LOG(WARNING) << dependency.name << " fails (" << status.message()
                            << "): health NOT_SERVING until it works";
      }
    }
    dependency_ok_[i] = status.ok();
    all_ok = all_ok && status.ok();
  }
  grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService();
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;  // Shutdown owns health from now on
    for (const std::string& name : service_names_) health->SetServingStatus(name, all_ok);
    health->SetServingStatus(all_ok);
  }
}

void ServiceHost::WatchDependencies() {
  absl::Duration interval = absl::InfiniteDuration();
  for (const Dependency& dependency : dependencies_) {
    interval = std::min(interval, dependency.interval);
  }
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      const auto stopping = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_; };
      if (mu_.AwaitWithTimeout(absl::Condition(&stopping), interval)) return;
    }
    CheckDependencies();
  }
}

void ServiceHost::Shutdown(absl::Duration grace) {
  if (shut_down_ || server_ == nullptr) return;
  shut_down_ = true;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (watcher_.joinable()) watcher_.join();
  if (auto* health = server_->GetHealthCheckService()) health->SetServingStatus(false);
  server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
  server_->Wait();
}

ServiceHost::~ServiceHost() { Shutdown(absl::ZeroDuration()); }

void BlockTerminationSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  // A client that goes away must not kill us through a write on its socket or pipe.
  signal(SIGPIPE, SIG_IGN);
}

int WaitForTerminationSignal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  int signal_number = 0;
  while (sigwait(&set, &signal_number) != 0) {
  }
  return signal_number;
}

int ServeUntilSignalled(const std::string& name, const ServerOptions& options,
                        const std::vector<HostedService>& services,
                        std::vector<Dependency> dependencies) {
  absl::StatusOr<std::unique_ptr<ServiceHost>> host =
      ServiceHost::Start(options, services, std::move(dependencies));
  if (!host.ok()) {
    STRATA_LOG(ERROR) << name << ": " << host.status().message();
    return 1;
  }
  STRATA_LOG(INFO) << name << " serving on " << (*host)->address();
  std::printf("listening on %s\n", (*host)->address().c_str());
  std::fflush(stdout);
  const int signal_number = WaitForTerminationSignal();
  STRATA_LOG(INFO) << name << ": signal " << signal_number << ", shutting down";
  (*host)->Shutdown();
  return 0;
}

}  // namespace strata::rpc
