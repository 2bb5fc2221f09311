#ifndef STRATA_LIB_DISTRIBUTION_HOSTS_H_
#define STRATA_LIB_DISTRIBUTION_HOSTS_H_

// Where and how to reach a registry: docker.io is served by registry-1.docker.io; TLS trusts
// the system's CAs plus docker's and podman's per-registry directories
// (`/etc/docker/certs.d/HOST:PORT/` and `/etc/containers/certs.d/HOST:PORT/`: `ca.crt` or
// another `*.crt`, `client.cert` + `client.key`); plain HTTP is allowed only for registries
// listed as insecure (localhost, 127.0.0.0/8 and ::1 always, as docker does) or when TLS
// verification was turned off for the command.

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "lib/http/http_client.h"

namespace strata::distribution {

struct HostOptions {
  // "HOST[:PORT]" registries plain HTTP is allowed for, besides the loopback ones.
  std::vector<std::string> insecure_registries;
  // False: do not verify certificates (and allow plain HTTP), for this command only.
  bool tls_verify = true;
  std::vector<std::string> certs_dirs = {"/etc/docker/certs.d", "/etc/containers/certs.d"};
};

struct HostConfig {
  // "registry-1.docker.io", "localhost:5000".
  std::string host;
  http::TlsOptions tls;
  // Plain HTTP may be tried when HTTPS fails.
  bool allow_http = false;
};

HostConfig ConfigureHost(absl::string_view domain, const HostOptions& options);

// True for localhost, 127.0.0.0/8 and ::1, with or without a port.
bool IsLoopbackRegistry(absl::string_view domain);

}  // namespace strata::distribution

#endif  // STRATA_LIB_DISTRIBUTION_HOSTS_H_
