#include "lib/rpc/client.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"
#include "lib/base/errors.h"
#include "lib/base/fs.h"
#include "lib/rpc/limits.h"

namespace strata::rpc {

absl::StatusOr<std::shared_ptr<grpc::Channel>> Dial(const ClientOptions& options) {
  if (options.address.empty()) return absl::InvalidArgumentError("no service address given");
  grpc::ChannelArguments arguments;
  arguments.SetMaxReceiveMessageSize(kMaxMessageSize);
  arguments.SetMaxSendMessageSize(kMaxMessageSize);

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
  }
  return grpc::CreateCustomChannel(options.address, credentials, arguments);
}

}  // namespace strata::rpc
