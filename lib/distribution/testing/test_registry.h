#ifndef STRATA_LIB_DISTRIBUTION_TESTING_TEST_REGISTRY_H_
#define STRATA_LIB_DISTRIBUTION_TESTING_TEST_REGISTRY_H_

// A real registry for tests: Debian's docker-registry (CNCF distribution 2.8) started on
// 127.0.0.1 with an ephemeral port, its own config file and filesystem storage in a temp
// directory; optionally behind TLS (a test CA made with openssl), htpasswd basic auth, or
// token auth with a token issuer of our own (testdata/token_server.py, python3-jwt).
// Shared by lib/distribution's tests and the e2e tests.

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "lib/digest/digest.h"
#include "lib/testing/service_process.h"
#include "lib/testing/temp_dir.h"

namespace strata::distribution::testing {

struct TestRegistryOptions {
  enum class Auth { kNone, kToken, kHtpasswd };
  Auth auth = Auth::kNone;
  // Serve HTTPS with a certificate of a test CA (htpasswd needs it: distribution refuses
  // basic auth over plain HTTP).
  bool tls = false;
  std::string username = "strata";
  std::string password = "s3cret-pass";
  // Lifetime of the issued tokens.
  int token_seconds = 300;
};

class TestRegistry {
 public:
  // Errors: INTERNAL with the registry's output when it does not start.
  static absl::StatusOr<std::unique_ptr<TestRegistry>> Start(TestRegistryOptions options = {});

  // "127.0.0.1:PORT".
  const std::string& domain() const { return domain_; }
  // A directory laid out as /etc/docker/certs.d (DOMAIN/ca.crt) when TLS is on.
  std::string certs_dir() const { return dir_.Join("certs.d"); }
  // The CA certificate that signed the registry's (TLS only).
  std::string ca_file() const { return dir_.Join("ca.crt"); }
  // Where the registry keeps a blob's bytes (to corrupt it in a test).
  std::string BlobDataPath(const Digest& digest) const;
  // The registry's log (its access log lines included) and the token server's.
  std::string Log() const;
  std::string TokenLog() const;
  // Access-log lines whose request line starts with METHOD and holds `path_part`.
  int CountRequests(const std::string& method, const std::string& path_part) const;
  const TestRegistryOptions& options() const { return options_; }

 private:
  TestRegistry() : dir_("registry") {}

  strata::testing::TempDir dir_;
  TestRegistryOptions options_;
  std::unique_ptr<strata::testing::ServiceProcess> token_server_;
  std::unique_ptr<strata::testing::ServiceProcess> registry_;
  std::string domain_;
};

}  // namespace strata::distribution::testing

#endif  // STRATA_LIB_DISTRIBUTION_TESTING_TEST_REGISTRY_H_
