// RegistryClient against a real docker-registry (CNCF distribution 2.8) started by the test:
// plain HTTP, token auth with our own issuer, htpasswd basic auth over TLS with a test CA.

#include "lib/distribution/registry_client.h"

#include <sys/stat.h>

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/base/fs.h"
#include "lib/distribution/credentials.h"
#include "lib/distribution/testing/test_registry.h"
#include "lib/oci/media_types.h"
#include "lib/testing/temp_dir.h"

namespace strata::distribution {
namespace {

using ::testing::HasSubstr;
using testing::TestRegistry;
using testing::TestRegistryOptions;

std::string RandomBytes(size_t n, uint64_t seed) {
  std::string out(n, '\0');
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (size_t i = 0; i < n; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    out[i] = static_cast<char>(x);
  }
  return out;
}

BlobOpener OpenString(const std::string& data) {
  return [&data](int64_t offset) -> absl::StatusOr<std::unique_ptr<layer::ByteSource>> {
    return std::unique_ptr<layer::ByteSource>(
        std::make_unique<layer::StringSource>(data.substr(offset)));
  };
}

class RegistryClientTest : public ::testing::Test {
 protected:
  std::unique_ptr<RegistryClient> Client(const TestRegistry& registry,
                                         std::optional<Credentials> credentials = std::nullopt,
                                         int64_t chunk = 0) {
    RegistryOptions options;
    options.hosts.certs_dirs = {registry.certs_dir()};
    options.upload_chunk_bytes = chunk;
    options.first_backoff = absl::Milliseconds(10);
    return std::make_unique<RegistryClient>(registry.domain(), options, credentials, &session_);
  }

  // Pushes config + one layer and a manifest tagged `tag`; returns the manifest.
  oci::Manifest PushImage(RegistryClient& client, const std::string& repo, const std::string& tag,
                          const std::string& config, const std::string& layer) {
    EXPECT_TRUE(client.PushBlob(repo, Digest::Of(layer), layer.size(), OpenString(layer)).ok());
    absl::Status pushed =
        client.PushBlob(repo, Digest::Of(config), config.size(), OpenString(config));
    EXPECT_TRUE(pushed.ok()) << pushed;
    oci::Manifest manifest;
    manifest.media_type = oci::kMediaTypeImageManifest;
    manifest.config = {oci::kMediaTypeImageConfig,
                       Digest::Of(config),
                       static_cast<int64_t>(config.size()),
                       {},
                       {},
                       {}};
    manifest.layers.push_back({oci::kMediaTypeLayerGzip,
                               Digest::Of(layer),
                               static_cast<int64_t>(layer.size()),
                               {},
                               {},
                               {}});
    auto digest = client.PutManifest(repo, tag, manifest.media_type, manifest.Serialize());
    EXPECT_TRUE(digest.ok()) << digest.status();
    return manifest;
  }

  http::HttpSession session_;
};

TEST_F(RegistryClientTest, PushesAndPullsOverPlainHttp) {
  auto registry = TestRegistry::Start();
  ASSERT_TRUE(registry.ok()) << registry.status();
  auto client = Client(**registry, std::nullopt, /*chunk=*/1 << 20);
  const std::string layer = RandomBytes(3 * 1024 * 1024 + 17, 1);
  const std::string config = R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers"}})";
  EXPECT_EQ(*client->StatBlob("team/app", Digest::Of(layer)), std::nullopt);
  oci::Manifest manifest = PushImage(*client, "team/app", "1", config, layer);
  // The layer in four chunks of 1 MiB (three full and a short one), the config in one.
  EXPECT_EQ((*registry)->CountRequests("PATCH", "/v2/team/app/blobs/uploads/"), 5);
  EXPECT_EQ(*client->StatBlob("team/app", Digest::Of(layer)), std::optional<int64_t>(layer.size()));

  auto by_tag = client->GetManifest("team/app", "1");
  ASSERT_TRUE(by_tag.ok()) << by_tag.status();
  EXPECT_EQ(by_tag->bytes, manifest.Serialize());
  EXPECT_EQ(by_tag->media_type, oci::kMediaTypeImageManifest);
  auto by_digest = client->GetManifest("team/app", by_tag->digest.str());
  ASSERT_TRUE(by_digest.ok()) << by_digest.status();
  EXPECT_EQ(by_digest->digest, by_tag->digest);

  layer::StringSink sink;
  ASSERT_TRUE(client->FetchBlob("team/app", Digest::Of(layer), layer.size(), &sink).ok());
  EXPECT_TRUE(sink.contents() == layer);

  // One PATCH for the whole blob, as docker pushes.
  auto whole = Client(**registry);
  const std::string other = RandomBytes(2 * 1024 * 1024, 2);
  ASSERT_TRUE(
      whole->PushBlob("team/other", Digest::Of(other), other.size(), OpenString(other)).ok());
  EXPECT_EQ((*registry)->CountRequests("PATCH", "/v2/team/other/blobs/uploads/"), 1);

  // A mount into another repository moves no bytes.
  auto mounted = client->MountBlob("team/copy", Digest::Of(layer), "team/app");
  ASSERT_TRUE(mounted.ok()) << mounted.status();
  EXPECT_TRUE(*mounted);
  EXPECT_EQ(*client->StatBlob("team/copy", Digest::Of(layer)),
            std::optional<int64_t>(layer.size()));
  EXPECT_EQ((*registry)->CountRequests("PATCH", "/v2/team/copy/"), 0);
  EXPECT_FALSE(*client->MountBlob("team/copy2", Digest::Of("nothing"), "team/app"));
}

// Fails with `error` once `good` bytes of data went out.
class BreakingSource : public layer::ByteSource {
 public:
  BreakingSource(std::string data, size_t good, absl::Status error)
      : data_(std::move(data)), good_(good), error_(std::move(error)) {}
  absl::StatusOr<absl::string_view> Read() override {
    if (offset_ >= good_ && !error_.ok()) return error_;
    const size_t n = std::min<size_t>({64 << 10, data_.size() - offset_, good_ - offset_});
    absl::string_view chunk(data_.data() + offset_, n);
    offset_ += n;
    return chunk;
  }

 private:
  std::string data_;
  size_t good_;
  absl::Status error_;
  size_t offset_ = 0;
};

TEST_F(RegistryClientTest, StreamedUploadOfABlobWhoseDigestComesAtTheEnd) {
  auto registry = TestRegistry::Start();
  ASSERT_TRUE(registry.ok()) << registry.status();
  auto client = Client(**registry);
  const std::string blob = RandomBytes(5 * 1024 * 1024 + 3, 3);
  bool asked_after_the_end = false;
  BreakingSource whole(blob, blob.size(), absl::OkStatus());
  absl::Status pushed =
      client->PushStreamedBlob("team/stream", &whole, [&]() -> absl::StatusOr<Digest> {
        asked_after_the_end = !whole.Read()->size();
        return Digest::Of(blob);
      });
  ASSERT_TRUE(pushed.ok()) << pushed;
  EXPECT_TRUE(asked_after_the_end);
  EXPECT_EQ(*client->StatBlob("team/stream", Digest::Of(blob)),
            std::optional<int64_t>(blob.size()));
  EXPECT_EQ((*registry)->CountRequests("PATCH", "/v2/team/stream/blobs/uploads/"), 1);

  // The source's own error comes back as it is, and nothing is recorded under the digest.
  const std::string other = RandomBytes(3 * 1024 * 1024, 4);
  BreakingSource broken(other, 1 << 20, absl::DataLossError("diff id mismatch"));
  pushed = client->PushStreamedBlob("team/stream", &broken,
                                    [&]() -> absl::StatusOr<Digest> { return Digest::Of(other); });
  EXPECT_EQ(pushed.code(), absl::StatusCode::kDataLoss) << pushed;
  EXPECT_EQ(*client->StatBlob("team/stream", Digest::Of(other)), std::nullopt);

  // A digest that is not the bytes' is refused by the registry: DATA_LOSS.
  BreakingSource lying(other, other.size(), absl::OkStatus());
  pushed = client->PushStreamedBlob("team/stream", &lying,
                                    [&]() -> absl::StatusOr<Digest> { return Digest::Of(blob); });
  EXPECT_EQ(pushed.code(), absl::StatusCode::kDataLoss) << pushed;
}

TEST_F(RegistryClientTest, ClearErrorsForWhatIsNotThere) {
  auto registry = TestRegistry::Start();
  ASSERT_TRUE(registry.ok()) << registry.status();
  auto client = Client(**registry);
  auto missing = client->GetManifest("team/app", "nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("team/app:nope not found: manifest unknown"));
  layer::StringSink sink;
  absl::Status blob = client->FetchBlob("team/app", Digest::Of("x"), 1, &sink);
  EXPECT_EQ(blob.code(), absl::StatusCode::kNotFound) << blob;
  EXPECT_THAT(blob.message(), HasSubstr("blob unknown"));
}

TEST_F(RegistryClientTest, CorruptedBlobIsDataLoss) {
  auto registry = TestRegistry::Start();
  ASSERT_TRUE(registry.ok()) << registry.status();
  auto client = Client(**registry);
  const std::string layer = RandomBytes(100000, 3);
  ASSERT_TRUE(client->PushBlob("app", Digest::Of(layer), layer.size(), OpenString(layer)).ok());
  std::string bad = layer;
  bad[5000] ^= 1;
  ASSERT_TRUE(WriteFileAtomically((*registry)->BlobDataPath(Digest::Of(layer)), bad).ok());
  layer::StringSink sink;
  absl::Status status = client->FetchBlob("app", Digest::Of(layer), layer.size(), &sink);
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
  EXPECT_THAT(status.message(), HasSubstr("verification failed"));
}

TEST_F(RegistryClientTest, TokenAuthScopesAndCaches) {
  TestRegistryOptions options;
  options.auth = TestRegistryOptions::Auth::kToken;
  auto registry = TestRegistry::Start(options);
  ASSERT_TRUE(registry.ok()) << registry.status();
  const std::string layer = RandomBytes(50000, 4);

  // Anonymous: the issuer grants pull only, so a push is refused.
  auto anonymous = Client(**registry);
  absl::Status refused =
      anonymous->PushBlob("team/app", Digest::Of(layer), layer.size(), OpenString(layer));
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnauthenticated) << refused;
  EXPECT_THAT(refused.message(), HasSubstr("unauthorized"));

  // Wrong password.
  auto wrong = Client(**registry, Credentials{"strata", "wrong"});
  absl::Status login = wrong->CheckLogin();
  EXPECT_EQ(login.code(), absl::StatusCode::kUnauthenticated) << login;
  EXPECT_THAT(login.message(), HasSubstr("incorrect username or password"));
  EXPECT_THAT(std::string(login.message()), ::testing::Not(HasSubstr("wrong")));

  auto client = Client(**registry, Credentials{"strata", "s3cret-pass"});
  ASSERT_TRUE(client->CheckLogin().ok());
  const std::string config = "{}";
  PushImage(*client, "team/app", "1", config, layer);
  auto manifest = client->GetManifest("team/app", "1");
  ASSERT_TRUE(manifest.ok()) << manifest.status();
  // Anonymous pull works with a pull-only token.
  auto pulled = anonymous->GetManifest("team/app", "1");
  ASSERT_TRUE(pulled.ok()) << pulled.status();
  EXPECT_EQ(pulled->digest, manifest->digest);
  // One token per scope, reused for every request of it.
  const std::string log = (*registry)->TokenLog();
  size_t push_tokens = 0;
  for (size_t at = log.find("scope=repository:team/app:pull,push user=strata");
       at != std::string::npos;
       at = log.find("scope=repository:team/app:pull,push user=strata", at + 1)) {
    ++push_tokens;
  }
  EXPECT_EQ(push_tokens, 1u) << log;
}

TEST_F(RegistryClientTest, BasicAuthOverTlsWithATestCa) {
  TestRegistryOptions options;
  options.auth = TestRegistryOptions::Auth::kHtpasswd;
  options.tls = true;
  auto registry = TestRegistry::Start(options);
  ASSERT_TRUE(registry.ok()) << registry.status();

  auto wrong = Client(**registry, Credentials{"strata", "nope"});
  absl::Status login = wrong->CheckLogin();
  EXPECT_EQ(login.code(), absl::StatusCode::kUnauthenticated) << login;
  auto anonymous = Client(**registry);
  EXPECT_EQ(anonymous->CheckLogin().code(), absl::StatusCode::kUnauthenticated);

  auto client = Client(**registry, Credentials{"strata", "s3cret-pass"});
  ASSERT_TRUE(client->CheckLogin().ok()) << client->CheckLogin();
  const std::string layer = RandomBytes(70000, 5);
  PushImage(*client, "app", "v1", "{}", layer);
  layer::StringSink sink;
  ASSERT_TRUE(client->FetchBlob("app", Digest::Of(layer), layer.size(), &sink).ok());
  EXPECT_TRUE(sink.contents() == layer);

  // Without the CA the certificate is not trusted, and there is no fallback to HTTP.
  RegistryOptions untrusted;
  untrusted.hosts.certs_dirs = {};
  RegistryClient no_ca((*registry)->domain(), untrusted, Credentials{"strata", "s3cret-pass"},
                       &session_);
  absl::Status tls = no_ca.CheckLogin();
  EXPECT_EQ(tls.code(), absl::StatusCode::kFailedPrecondition) << tls;
}

TEST(CredentialsTest, DockerConfigRoundTripsWithMode0600) {
  strata::testing::TempDir dir;
  const std::string path = dir.Join("docker/config.json");
  ASSERT_TRUE(WriteFileAtomically(dir.Join("unused"), "").ok());
  ASSERT_TRUE(MakeDirs(dir.Join("docker")).ok());
  ASSERT_TRUE(WriteFileAtomically(path, R"({"auths":{"https://other.example/v1/":{"auth":"eDp5"}},
                                             "credsStore":"", "detachKeys":"ctrl-x"})")
                  .ok());
  ASSERT_TRUE(StoreCredentials("docker.io", {"me", "pa:ss"}, path).ok());
  ASSERT_TRUE(StoreCredentials("localhost:5000", {"u", "p"}, path).ok());
  auto hub = LookupCredentials("docker.io", path);
  ASSERT_TRUE(hub.ok() && hub->has_value());
  EXPECT_EQ((*hub)->username, "me");
  EXPECT_EQ((*hub)->password, "pa:ss");
  auto other = LookupCredentials("other.example", path);
  ASSERT_TRUE(other.ok() && other->has_value());
  EXPECT_EQ((*other)->username, "x");
  auto text = ReadFile(path);
  EXPECT_THAT(*text, HasSubstr("https://index.docker.io/v1/"));
  EXPECT_THAT(*text, HasSubstr("detachKeys"));
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_TRUE(EraseCredentials("localhost:5000", path).ok());
  EXPECT_EQ(EraseCredentials("localhost:5000", path).code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(LookupCredentials("localhost:5000", path)->has_value());

  // $REGISTRY_AUTH_FILE (podman's auth.json) when config.json has nothing.
  const std::string auth_json = dir.Join("auth.json");
  ASSERT_TRUE(WriteFileAtomically(auth_json, R"({"auths":{"quay.io":{"auth":"cTpy"}}})").ok());
  ::setenv("REGISTRY_AUTH_FILE", auth_json.c_str(), 1);
  auto quay = LookupCredentials("quay.io", path);
  ::unsetenv("REGISTRY_AUTH_FILE");
  ASSERT_TRUE(quay.ok() && quay->has_value());
  EXPECT_EQ((*quay)->username, "q");
}

TEST(AuthTest, ParsesChallenges) {
  auto challenge = ParseChallenge(
      R"(Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push")");
  ASSERT_TRUE(challenge.ok());
  EXPECT_EQ(challenge->scheme, "bearer");
  EXPECT_EQ(challenge->params["realm"], "https://auth.example/token");
  EXPECT_EQ(challenge->params["scope"], "repository:a/b:pull,push");
  auto basic = ParseChallenge(R"(Basic realm="x")");
  EXPECT_EQ(basic->scheme, "basic");
}

TEST(HostsTest, LoopbackIsInsecureByDefault) {
  EXPECT_TRUE(IsLoopbackRegistry("localhost:5000"));
  EXPECT_TRUE(IsLoopbackRegistry("127.0.0.1:5000"));
  EXPECT_TRUE(IsLoopbackRegistry("127.1.2.3"));
  EXPECT_FALSE(IsLoopbackRegistry("128.0.0.1"));
  EXPECT_FALSE(IsLoopbackRegistry("127.0.0.1.example.com"));
  EXPECT_EQ(ConfigureHost("docker.io", {}).host, "registry-1.docker.io");
  EXPECT_FALSE(ConfigureHost("quay.io", {}).allow_http);
  HostOptions insecure;
  insecure.insecure_registries = {"quay.io"};
  EXPECT_TRUE(ConfigureHost("quay.io", insecure).allow_http);
}

}  // namespace
}  // namespace strata::distribution
