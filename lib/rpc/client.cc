#include "lib/rpc/client.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"
#include "lib/base/errors.h"
#include "lib/base/fs.h"
#include "lib/rpc/limits.h"

namespace strata::rpc {
namespace {

// For a target listing replicas: round_robin picks only replicas that are connected, so one
// that went down is skipped as soon as its connection drops; a call one refused or lost
// before it answered (UNAVAILABLE) is retried on another, with a short backoff. Calls that
// already streamed more than gRPC buffers for retries (256 KiB) are not retried here: their
// callers resume them (layerstore reads) or start over (commits).
constexpr char kReplicaServiceConfig[] = R"json({
  "loadBalancingConfig": [{"round_robin": {}}],
  "methodConfig": [{
    "name": [{}],
    "retryPolicy": {
      "maxAttempts": 4,
      "initialBackoff": "0.1s",
      "maxBackoff": "1s",
      "backoffMultiplier": 2,
      "retryableStatusCodes": ["UNAVAILABLE"]
    }
  }]
})json";

// "A:p" -> "A", "[::1]:p" -> "::1".
std::string HostOf(const std::string& address) {
  absl::string_view host = address;
  const size_t colon = host.rfind(':');
  if (colon != absl::string_view::npos) host = host.substr(0, colon);
  if (absl::ConsumePrefix(&host, "[")) absl::ConsumeSuffix(&host, "]");
  return std::string(host);
}

}  // namespace

std::vector<std::string> ReplicaAddresses(const std::string& target) {
  absl::string_view rest = target;
  if (!absl::ConsumePrefix(&rest, "ipv4:") && !absl::ConsumePrefix(&rest, "ipv6:")) return {};
  std::vector<std::string> addresses = absl::StrSplit(rest, ',', absl::SkipEmpty());
  if (addresses.size() < 2) return {};
  return addresses;
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> Dial(const ClientOptions& options) {
  if (options.address.empty()) return absl::InvalidArgumentError("no service address given");
  grpc::ChannelArguments arguments;
  arguments.SetMaxReceiveMessageSize(kMaxMessageSize);
  arguments.SetMaxSendMessageSize(kMaxMessageSize);
  const std::vector<std::string> replicas = ReplicaAddresses(options.address);
  if (!replicas.empty()) {
    arguments.SetServiceConfigJSON(kReplicaServiceConfig);
    // A replica that comes back is used again within a second: gRPC's default reconnect
    // backoff grows to two minutes, so a replica restarted after a long outage would stay
    // unused while its peers fail.
    arguments.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
    arguments.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
    arguments.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  }

  std::shared_ptr<grpc::ChannelCredentials> credentials;
  if (options.tls_ca_file.empty()) {
    if (!options.token_file.empty()) {
      return absl::InvalidArgumentError(
          "a bearer token needs TLS (a CA file): it must not cross the network in clear text");
    }
    credentials = grpc::InsecureChannelCredentials();
  } else {
    grpc::SslCredentialsOptions ssl;
    ASSIGN_OR_RETURN(ssl.pem_root_certs, ReadFile(options.tls_ca_file));
    if (!options.tls_cert_file.empty()) {
      ASSIGN_OR_RETURN(ssl.pem_cert_chain, ReadFile(options.tls_cert_file));
      ASSIGN_OR_RETURN(ssl.pem_private_key, ReadFile(options.tls_key_file));
    }
    credentials = grpc::SslCredentials(ssl);
    if (!options.token_file.empty()) {
      ASSIGN_OR_RETURN(std::string token, ReadFile(options.token_file));
      credentials = grpc::CompositeChannelCredentials(
          credentials,
          grpc::AccessTokenCredentials(std::string(absl::StripAsciiWhitespace(token))));
    }
    // gRPC checks every replica's certificate against one name: the target's authority,
    // which for an address list is the whole list and matches no certificate.
    if (!options.tls_server_name.empty()) {
      arguments.SetSslTargetNameOverride(options.tls_server_name);
    } else if (!replicas.empty()) {
      arguments.SetSslTargetNameOverride(HostOf(replicas.front()));
    }
  }
  return grpc::CreateCustomChannel(options.address, credentials, arguments);
}

}  // namespace strata::rpc
