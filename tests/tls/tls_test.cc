// A service over TLS with client certificates (mTLS) and a bearer token, as deploy/certs.sh
// sets it up: the right client gets in; every wrong one is refused — no certificate, a
// certificate from another CA, an expired certificate, a wrong or missing token, plaintext to
// the TLS port — and nothing it asked for is executed or written.

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "lib/base/fs.h"
#include "lib/digest/digest.h"
#include "lib/rpc/client.h"
#include "lib/testing/service_process.h"
#include "lib/testing/subprocess.h"
#include "lib/testing/temp_dir.h"
#include "services/layerstore/client/layerstore_client.h"

namespace strata {
namespace {

using strata::testing::RunfilePath;
using strata::testing::RunOk;

class TlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new strata::testing::TempDir("tls");
    const std::string certs = RunfilePath("deploy/certs.sh");
    const std::string pki = dir_->Join("pki");
    const std::string other = dir_->Join("other");
    ASSERT_TRUE(RunOk({certs, "--dir", pki, "ca"}).ok());
    ASSERT_TRUE(RunOk({certs, "--dir", pki, "server", "layerstore", "IP:127.0.0.1"}).ok());
    ASSERT_TRUE(RunOk({certs, "--dir", pki, "client", "ann"}).ok());
    ASSERT_TRUE(RunOk({certs, "--dir", pki, "--days", "-1", "client", "expired"}).ok());
    ASSERT_TRUE(RunOk({certs, "--dir", other, "ca"}).ok());
    ASSERT_TRUE(RunOk({certs, "--dir", other, "client", "mallory"}).ok());
    ASSERT_TRUE(WriteFileAtomically(dir_->Join("token"), "the-right-token\n", 0600).ok());
    ASSERT_TRUE(WriteFileAtomically(dir_->Join("wrong-token"), "a-wrong-token\n", 0600).ok());

    auto service = strata::testing::ServiceProcess::Start(
        RunfilePath("services/layerstore/strata-layerstore"),
        {"--root=" + dir_->Join("blobs"), "--tls-cert=" + pki + "/layerstore.crt",
         "--tls-key=" + pki + "/layerstore.key", "--tls-client-ca=" + pki + "/ca.crt",
         "--auth-token-file=" + dir_->Join("token")});
    ASSERT_TRUE(service.ok()) << service.status();
    service_ = service->release();
  }
  static void TearDownTestSuite() {
    delete service_;
    delete dir_;
  }

  static std::string Pki(const std::string& file) { return dir_->Join("pki/" + file); }

  // A client of the service with these credentials.
  static layerstore::LayerstoreClient Client(rpc::ClientOptions options) {
    options.address = service_->address();
    auto channel = rpc::Dial(options);
    EXPECT_TRUE(channel.ok()) << channel.status();
    return layerstore::LayerstoreClient(
        *channel, layerstore::LayerstoreClientOptions{.call_timeout = absl::Seconds(10),
                                                      .stream_timeout = absl::Seconds(10)});
  }

  static rpc::ClientOptions Good() {
    return {.tls_ca_file = Pki("ca.crt"),
            .tls_cert_file = Pki("ann.crt"),
            .tls_key_file = Pki("ann.key"),
            .token_file = dir_->Join("token")};
  }

  // Tries to write a blob with these credentials: refused, and the blob is not there.
  static absl::Status TryWrite(const rpc::ClientOptions& options, const std::string& content) {
    layerstore::LayerstoreClient client = Client(options);
    absl::StatusOr<layerstore::CommitResult> put = client.Put("intruder-" + content, content);
    const Digest digest = Digest::Of(content);
    layerstore::LayerstoreClient good = Client(Good());
    EXPECT_TRUE(absl::IsNotFound(good.Stat(digest).status())) << "the refused write was stored";
    EXPECT_TRUE(absl::IsNotFound(good.WriteStatus("intruder-" + content).status()))
        << "the refused write left an upload";
    return put.status();
  }

  static strata::testing::TempDir* dir_;
  static strata::testing::ServiceProcess* service_;
};

strata::testing::TempDir* TlsTest::dir_ = nullptr;
strata::testing::ServiceProcess* TlsTest::service_ = nullptr;

TEST_F(TlsTest, TheRightCertificateAndTokenGetIn) {
  layerstore::LayerstoreClient client = Client(Good());
  absl::StatusOr<layerstore::CommitResult> put = client.Put("welcome", "welcome");
  ASSERT_TRUE(put.ok()) << put.status();
  EXPECT_TRUE(client.Stat(Digest::Of("welcome")).ok());
}

TEST_F(TlsTest, NoClientCertificateIsRefused) {
  rpc::ClientOptions options = Good();
  options.tls_cert_file.clear();
  options.tls_key_file.clear();
  absl::Status status = TryWrite(options, "no certificate");
  EXPECT_TRUE(absl::IsUnavailable(status)) << status;
}

TEST_F(TlsTest, ACertificateFromAnotherCaIsRefused) {
  rpc::ClientOptions options = Good();
  options.tls_cert_file = dir_->Join("other/mallory.crt");
  options.tls_key_file = dir_->Join("other/mallory.key");
  absl::Status status = TryWrite(options, "other ca");
  EXPECT_TRUE(absl::IsUnavailable(status)) << status;
}

TEST_F(TlsTest, AnExpiredCertificateIsRefused) {
  rpc::ClientOptions options = Good();
  options.tls_cert_file = Pki("expired.crt");
  options.tls_key_file = Pki("expired.key");
  absl::Status status = TryWrite(options, "expired");
  EXPECT_TRUE(absl::IsUnavailable(status)) << status;
}

TEST_F(TlsTest, AWrongTokenIsUnauthenticated) {
  rpc::ClientOptions options = Good();
  options.token_file = dir_->Join("wrong-token");
  absl::Status status = TryWrite(options, "wrong token");
  EXPECT_TRUE(absl::IsUnauthenticated(status)) << status;
}

TEST_F(TlsTest, NoTokenIsUnauthenticated) {
  rpc::ClientOptions options = Good();
  options.token_file.clear();
  absl::Status status = TryWrite(options, "no token");
  EXPECT_TRUE(absl::IsUnauthenticated(status)) << status;
}

TEST_F(TlsTest, PlaintextToTheTlsPortIsRefused) {
  absl::Status status = TryWrite({}, "plaintext");
  EXPECT_TRUE(absl::IsUnavailable(status)) << status;
}

TEST_F(TlsTest, AServerCertificateFromAnotherCaIsNotTrusted) {
  // The client side of mTLS: a client that trusts another CA refuses this server.
  rpc::ClientOptions options = Good();
  options.tls_ca_file = dir_->Join("other/ca.crt");
  absl::Status status = TryWrite(options, "untrusted server");
  EXPECT_TRUE(absl::IsUnavailable(status)) << status;
}

}  // namespace
}  // namespace strata
