// Dial with a target listing several replicas: calls spread over them (round_robin), go on
// when one stops, and over TLS every replica's certificate is checked against one name.

#include "lib/rpc/client.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/impl/codegen/service_type.h"
#include "gtest/gtest.h"
#include "lib/rpc/health.h"
#include "lib/rpc/server.h"
#include "lib/testing/subprocess.h"
#include "lib/testing/temp_dir.h"

namespace strata::rpc {
namespace {

using strata::testing::RunfilePath;
using strata::testing::RunOk;

TEST(ReplicaAddressesTest, OnlyAListOfSeveralAddressesIsOne) {
  EXPECT_EQ(ReplicaAddresses("ipv4:127.0.1.1:7420,127.0.2.1:7420"),
            (std::vector<std::string>{"127.0.1.1:7420", "127.0.2.1:7420"}));
  EXPECT_EQ(ReplicaAddresses("ipv6:[::1]:1,[::1]:2"),
            (std::vector<std::string>{"[::1]:1", "[::1]:2"}));
  EXPECT_TRUE(ReplicaAddresses("ipv4:127.0.1.1:7420").empty());
  EXPECT_TRUE(ReplicaAddresses("127.0.1.1:7420").empty());
  EXPECT_TRUE(ReplicaAddresses("unix:/run/strata/layerstore.sock").empty());
  EXPECT_TRUE(ReplicaAddresses("dns:///store.example:7420").empty());
}

// Two servers, each hosting a service of its own name (so a health check for it says which
// one answered) on 127.0.0.1.
class ReplicasTest : public ::testing::Test {
 protected:
  void StartReplicas(ServerOptions options) {
    for (int i = 0; i < 2; ++i) {
      auto host = ServiceHost::Start(options, {{Name(i), &markers_[i]}});
      ASSERT_TRUE(host.ok()) << host.status();
      hosts_[i] = std::move(*host);
    }
    target_ = absl::StrCat("ipv4:127.0.0.1:", hosts_[0]->port(), ",127.0.0.1:", hosts_[1]->port());
  }
  static std::string Name(int i) { return absl::StrCat("strata.test.Replica", i); }

  // Which replica answers the next call: 0, 1, or -1 when the call failed.
  static int WhoAnswers(const std::shared_ptr<grpc::Channel>& channel) {
    absl::StatusOr<std::string> zero = CheckHealth(channel, Name(0));
    if (zero.ok()) return 0;
    return absl::IsNotFound(zero.status()) ? 1 : -1;
  }

  grpc::Service markers_[2];
  std::unique_ptr<ServiceHost> hosts_[2];
  std::string target_;
};

TEST_F(ReplicasTest, CallsSpreadOverEveryReplicaAndGoOnWhenOneStops) {
  StartReplicas({.listen = "127.0.0.1:0", .insecure = true});
  auto channel = Dial({.address = target_});
  ASSERT_TRUE(channel.ok()) << channel.status();
  bool seen[2] = {false, false};
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (!(seen[0] && seen[1]) && absl::Now() < deadline) {
    const int who = WhoAnswers(*channel);
    ASSERT_NE(who, -1);
    seen[who] = true;
  }
  EXPECT_TRUE(seen[0] && seen[1]) << "round_robin never reached both replicas";

  hosts_[0]->Shutdown(absl::ZeroDuration());
  hosts_[0].reset();
  // Every call from now on is answered, by the replica left.
  for (int i = 0; i < 20; ++i) {
    absl::StatusOr<std::string> health = CheckHealth(*channel, "");
    ASSERT_TRUE(health.ok()) << "call " << i << ": " << health.status();
    EXPECT_EQ(WhoAnswers(*channel), 1);
  }
}

TEST_F(ReplicasTest, OverTlsEveryReplicaIsCheckedAgainstTheFirstAddress) {
  strata::testing::TempDir dir("client-test");
  const std::string certs = RunfilePath("deploy/certs.sh");
  const std::string pki = dir.Join("pki");
  ASSERT_TRUE(RunOk({certs, "--dir", pki, "ca"}).ok());
  ASSERT_TRUE(RunOk({certs, "--dir", pki, "server", "good", "IP:127.0.0.1"}).ok());
  ASSERT_TRUE(RunOk({certs, "--dir", pki, "server", "elsewhere", "IP:127.0.0.2"}).ok());

  StartReplicas({.listen = "127.0.0.1:0",
                 .tls_cert_file = pki + "/good.crt",
                 .tls_key_file = pki + "/good.key"});
  auto channel = Dial({.address = target_, .tls_ca_file = pki + "/ca.crt"});
  ASSERT_TRUE(channel.ok()) << channel.status();
  absl::StatusOr<std::string> health = CheckHealth(*channel, "");
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(*health, "SERVING");

  // The same replicas checked for another name (an explicit one that their certificate
  // lacks) are refused: the name is really checked.
  auto misnamed =
      Dial({.address = target_, .tls_ca_file = pki + "/ca.crt", .tls_server_name = "127.0.0.2"});
  ASSERT_TRUE(misnamed.ok()) << misnamed.status();
  EXPECT_TRUE(absl::IsUnavailable(CheckHealth(*misnamed, "").status()));
}

TEST_F(ReplicasTest, AReplicaWhoseCertificateLacksTheNameIsRefused) {
  strata::testing::TempDir dir("client-test");
  const std::string certs = RunfilePath("deploy/certs.sh");
  const std::string pki = dir.Join("pki");
  ASSERT_TRUE(RunOk({certs, "--dir", pki, "ca"}).ok());
  ASSERT_TRUE(RunOk({certs, "--dir", pki, "server", "elsewhere", "IP:127.0.0.2"}).ok());
  StartReplicas({.listen = "127.0.0.1:0",
                 .tls_cert_file = pki + "/elsewhere.crt",
                 .tls_key_file = pki + "/elsewhere.key"});
  auto channel = Dial({.address = target_, .tls_ca_file = pki + "/ca.crt"});
  ASSERT_TRUE(channel.ok()) << channel.status();
  EXPECT_TRUE(absl::IsUnavailable(CheckHealth(*channel, "").status()));
}

}  // namespace
}  // namespace strata::rpc
