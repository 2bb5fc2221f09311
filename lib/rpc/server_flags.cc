#include "lib/rpc/server_flags.h"

namespace strata::rpc {

void AddServerFlags(CLI::App& app, ServerOptions& options) {
  app.add_option("--listen", options.listen,
                 "Address to serve on: unix:/path, or host:port (port 0: any) with TLS")
      ->capture_default_str();
  app.add_flag("--insecure", options.insecure,
               "Allow plaintext TCP: anyone who reaches the port can call every RPC");
  app.add_option("--socket-group", options.socket_group,
                 "Group that may use the unix socket (mode 0660), when it exists")
      ->capture_default_str();
  app.add_option("--tls-cert", options.tls_cert_file, "PEM certificate chain: serve TLS");
  app.add_option("--tls-key", options.tls_key_file, "PEM private key for --tls-cert");
  app.add_option("--tls-client-ca", options.tls_client_ca_file,
                 "PEM CA bundle: require client certificates it signed");
  app.add_option("--auth-token-file", options.auth_token_file,
                 "Require 'authorization: Bearer <token>' with the token in this file (TLS only)");
  app.add_option("--grpc-memory-limit", options.grpc_memory_limit,
                 "Bytes gRPC may use for buffers (0: no limit)")
      ->capture_default_str();
}

}  // namespace strata::rpc
