#include "lib/distribution/testing/test_registry.h"

#include <sys/stat.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "lib/base/errors.h"
#include "lib/base/fs.h"
#include "lib/testing/subprocess.h"

namespace strata::distribution::testing {
namespace {

using strata::testing::RunOk;

absl::Status MakeCertificate(const std::string& dir) {
  const std::string ext = dir + "/san.ext";
  RETURN_IF_ERROR(WriteFileAtomically(ext, "subjectAltName=IP:127.0.0.1,DNS:localhost\n"));
  RETURN_IF_ERROR(RunOk({"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                         "-keyout", dir + "/ca.key", "-out", dir + "/ca.crt", "-days", "2", "-subj",
                         "/CN=strata test CA"}));
  RETURN_IF_ERROR(
      RunOk({"/usr/bin/openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout",
             dir + "/server.key", "-out", dir + "/server.csr", "-subj", "/CN=127.0.0.1"}));
  return RunOk({"/usr/bin/openssl", "x509", "-req", "-in", dir + "/server.csr", "-CA",
                dir + "/ca.crt", "-CAkey", dir + "/ca.key", "-CAcreateserial", "-out",
                dir + "/server.crt", "-days", "2", "-extfile", ext});
}

}  // namespace

absl::StatusOr<std::unique_ptr<TestRegistry>> TestRegistry::Start(TestRegistryOptions options) {
  std::unique_ptr<TestRegistry> registry(new TestRegistry());
  registry->options_ = options;
  const std::string dir = registry->dir_.path();
  std::string auth;
  if (options.auth == TestRegistryOptions::Auth::kToken) {
    RETURN_IF_ERROR(RunOk({"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                           "-keyout", dir + "/token.key", "-out", dir + "/token.crt", "-days", "2",
                           "-subj", "/CN=strata test token issuer"}));
    ASSIGN_OR_RETURN(
        registry->token_server_,
        strata::testing::ServiceProcess::StartCommand(
            {"/usr/bin/python3",
             strata::testing::RunfilePath("lib/distribution/testdata/token_server.py"),
             dir + "/token.key", dir + "/token.crt", "strata-test", "strata-test-issuer",
             absl::StrCat(options.username, ":", options.password),
             absl::StrCat(options.token_seconds)}));
    auth = absl::StrCat("auth:\n  token:\n    realm: http://", registry->token_server_->address(),
                        "/token\n    service: strata-test\n    issuer: strata-test-issuer\n"
                        "    rootcertbundle: ",
                        dir, "/token.crt\n");
  } else if (options.auth == TestRegistryOptions::Auth::kHtpasswd) {
    const std::string script = absl::StrCat(
        "import bcrypt,sys; open(sys.argv[1],'w').write(sys.argv[2]+':'+"
        "bcrypt.hashpw(sys.argv[3].encode(), bcrypt.gensalt(5)).decode()+'\\n')");
    RETURN_IF_ERROR(RunOk(
        {"/usr/bin/python3", "-c", script, dir + "/htpasswd", options.username, options.password}));
    auth =
        absl::StrCat("auth:\n  htpasswd:\n    realm: strata-test\n    path: ", dir, "/htpasswd\n");
  }
  std::string tls;
  if (options.tls) {
    RETURN_IF_ERROR(MakeCertificate(dir));
    tls = absl::StrCat("  tls:\n    certificate: ", dir, "/server.crt\n    key: ", dir,
                       "/server.key\n");
  }
  const std::string config = absl::StrCat(
      "version: 0.1\nlog:\n  level: info\n  accesslog:\n    disabled: false\n"
      "storage:\n  filesystem:\n    rootdirectory: ",
      dir, "/storage\n  delete:\n    enabled: true\n",
      // Tests corrupt blobs on disk: no cache may hide that.
      "  cache:\n    blobdescriptor: \"\"\n", auth,
      "http:\n  addr: 127.0.0.1:0\n  secret: strata-test-secret\n", tls);
  RETURN_IF_ERROR(WriteFileAtomically(dir + "/config.yml", config));
  ASSIGN_OR_RETURN(registry->registry_,
                   strata::testing::ServiceProcess::StartCommand(
                       {"/usr/bin/docker-registry", "serve", dir + "/config.yml"}));
  registry->domain_ = registry->registry_->address();
  if (options.tls) {
    const std::string certs = absl::StrCat(dir, "/certs.d/", registry->domain_);
    RETURN_IF_ERROR(MakeDirs(certs));
    ASSIGN_OR_RETURN(std::string ca, ReadFile(dir + "/ca.crt"));
    RETURN_IF_ERROR(WriteFileAtomically(certs + "/ca.crt", ca));
  }
  return registry;
}

std::string TestRegistry::BlobDataPath(const Digest& digest) const {
  const std::string hex(digest.hex());
  return absl::StrCat(dir_.path(), "/storage/docker/registry/v2/blobs/sha256/", hex.substr(0, 2),
                      "/", hex, "/data");
}

std::string TestRegistry::Log() const {
  absl::StatusOr<std::string> log = ReadFile(registry_->log_path());
  return log.ok() ? *log : "";
}

std::string TestRegistry::TokenLog() const {
  if (!token_server_) return "";
  absl::StatusOr<std::string> log = ReadFile(token_server_->log_path());
  return log.ok() ? *log : "";
}

int TestRegistry::CountRequests(const std::string& method, const std::string& path_part) const {
  int count = 0;
  for (absl::string_view line : absl::StrSplit(Log(), '\n')) {
    const size_t quote = line.find(absl::StrCat("\"", method, " "));
    if (quote == absl::string_view::npos) continue;
    const size_t end = line.find(" HTTP/", quote);
    if (end == absl::string_view::npos) continue;
    if (absl::StrContains(line.substr(quote, end - quote), path_part)) ++count;
  }
  return count;
}

}  // namespace strata::distribution::testing
