// The manifest model: OCI and docker manifests and indexes parse and serialise, schema 1 and
// oversized or tampered documents are refused, platforms are chosen as docker chooses them.

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/oci/manifest_document.h"
#include "lib/oci/media_types.h"

namespace strata::oci {
namespace {

using ::testing::HasSubstr;

std::string Hex(char c) { return std::string(64, c); }

constexpr char kDockerManifestJson[] = R"({
  "schemaVersion": 2,
  "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
  "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 1469,
             "digest": "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
  "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 2,
              "digest": "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"}]
})";

TEST(ManifestTest, DockerSchema2ParsesAndRoundTrips) {
  auto doc = ParseManifestDocument(kDockerManifestJson, kDockerManifest, Digest());
  ASSERT_TRUE(doc.ok()) << doc.status();
  ASSERT_FALSE(doc->is_index());
  const Manifest& manifest = std::get<Manifest>(doc->content);
  EXPECT_EQ(manifest.format(), ManifestFormat::kDockerV2Schema2);
  EXPECT_EQ(manifest.config.media_type, kDockerConfig);
  EXPECT_EQ(manifest.config.size, 1469);
  ASSERT_EQ(manifest.layers.size(), 1u);
  EXPECT_EQ(manifest.layers[0].digest.str(), "sha256:" + Hex('b'));
  EXPECT_EQ(*OciLayerMediaType(manifest.layers[0].media_type), kMediaTypeLayerGzip);
  EXPECT_EQ(doc->digest, Digest::Of(kDockerManifestJson));

  auto again = ParseManifest(manifest.Serialize(), kDockerManifest);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->Serialize(), manifest.Serialize());
}

TEST(ManifestTest, OciManifestWithoutContentTypeAndAnnotations) {
  Manifest manifest;
  manifest.media_type = kMediaTypeImageManifest;
  manifest.config = {kMediaTypeImageConfig, Digest::Of("config"), 6, {}, {}, {}};
  manifest.layers.push_back({kMediaTypeLayerZstd, Digest::Of("layer"), 5, {}, {}, {}});
  manifest.annotations["org.opencontainers.image.ref.name"] = "1";
  const std::string bytes = manifest.Serialize();
  auto doc = ParseManifestDocument(bytes, "application/json", Digest::Of(bytes));
  ASSERT_TRUE(doc.ok()) << doc.status();
  EXPECT_EQ(doc->media_type, kMediaTypeImageManifest);
  const Manifest& parsed = std::get<Manifest>(doc->content);
  EXPECT_EQ(parsed.layers[0].media_type, kMediaTypeLayerZstd);
  EXPECT_EQ(parsed.annotations.at("org.opencontainers.image.ref.name"), "1");
  EXPECT_EQ(parsed.Serialize(), bytes);
  // Content-Type with parameters.
  EXPECT_TRUE(ParseManifestDocument(bytes, std::string(kMediaTypeImageManifest) + "; charset=utf-8",
                                    Digest())
                  .ok());
}

TEST(ManifestTest, DigestMismatchIsDataLoss) {
  auto doc = ParseManifestDocument(kDockerManifestJson, kDockerManifest, Digest::Of("other"));
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(doc.status().message(), HasSubstr("manifest verification failed"));
}

TEST(ManifestTest, SchemaOneIsRefusedClearly) {
  const std::string schema1 = R"({"schemaVersion": 1, "name": "x", "tag": "1", "fsLayers": []})";
  for (const char* type : {kDockerManifestSchema1Signed, "application/json", ""}) {
    auto doc = ParseManifestDocument(schema1, type, Digest());
    ASSERT_FALSE(doc.ok()) << type;
    EXPECT_EQ(doc.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(doc.status().message(), HasSubstr("schema 1"));
  }
}

TEST(ManifestTest, OversizedAndMalformedAreRefused) {
  std::string big(kMaxManifestBytes + 1, ' ');
  auto doc = ParseManifestDocument(big, kMediaTypeImageManifest, Digest());
  ASSERT_FALSE(doc.ok());
  EXPECT_THAT(doc.status().message(), HasSubstr("4 MiB"));
  EXPECT_FALSE(ParseManifestDocument("{", kMediaTypeImageManifest, Digest()).ok());
  EXPECT_FALSE(
      ParseManifestDocument(R"({"schemaVersion":2,"layers":[]})", kMediaTypeImageManifest, Digest())
          .ok());
  auto bad_digest = ParseManifestDocument(
      R"({"schemaVersion":2,"config":{"mediaType":"x","size":1,"digest":"md5:1"},"layers":[]})",
      kMediaTypeImageManifest, Digest());
  ASSERT_FALSE(bad_digest.ok());
  EXPECT_THAT(bad_digest.status().message(), HasSubstr("config"));
  EXPECT_FALSE(ParseManifestDocument("{}", "application/vnd.example+json", Digest()).ok());
}

TEST(ManifestTest, NonDistributableLayersAreNamed) {
  auto type = OciLayerMediaType(kDockerLayerForeignGzip);
  ASSERT_FALSE(type.ok());
  EXPECT_THAT(type.status().message(), HasSubstr("non-distributable"));
  EXPECT_FALSE(
      OciLayerMediaType("application/vnd.oci.image.layer.nondistributable.v1.tar+gzip").ok());
  EXPECT_EQ(*LayerMediaTypeFor(kMediaTypeLayerGzip, ManifestFormat::kDockerV2Schema2),
            kDockerLayerGzip);
  EXPECT_FALSE(LayerMediaTypeFor(kMediaTypeLayerZstd, ManifestFormat::kDockerV2Schema2).ok());
}

ImageIndex TwoPlatforms() {
  ImageIndex index;
  index.media_type = kMediaTypeImageIndex;
  index.manifests.push_back(
      {kMediaTypeImageManifest, Digest::Of("amd64"), 10, {}, {}, Platform{"linux", "amd64", ""}});
  index.manifests.push_back(
      {kMediaTypeImageManifest, Digest::Of("arm64"), 10, {}, {}, Platform{"linux", "arm64", "v8"}});
  index.manifests.push_back({kMediaTypeImageManifest,
                             Digest::Of("attest"),
                             10,
                             {},
                             {},
                             Platform{"unknown", "unknown", ""}});
  return index;
}

TEST(ImageIndexTest, RoundTripsAndSelectsPlatforms) {
  const std::string bytes = TwoPlatforms().Serialize();
  auto doc = ParseManifestDocument(bytes, kMediaTypeImageIndex, Digest());
  ASSERT_TRUE(doc.ok()) << doc.status();
  ASSERT_TRUE(doc->is_index());
  const ImageIndex& index = std::get<ImageIndex>(doc->content);
  EXPECT_EQ(index.Serialize(), bytes);

  auto amd64 = SelectPlatform(index, *ParsePlatform("linux/amd64"));
  ASSERT_TRUE(amd64.ok());
  EXPECT_EQ(amd64->digest, Digest::Of("amd64"));
  // arm64 without a variant is v8; aarch64 is arm64.
  for (const char* wanted : {"linux/arm64", "linux/arm64/v8", "Linux/aarch64"}) {
    auto arm = SelectPlatform(index, *ParsePlatform(wanted));
    ASSERT_TRUE(arm.ok()) << wanted;
    EXPECT_EQ(arm->digest, Digest::Of("arm64")) << wanted;
  }
  auto none = SelectPlatform(index, *ParsePlatform("linux/s390x"));
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(none.status().message(), HasSubstr("linux/s390x"));
  EXPECT_THAT(none.status().message(), HasSubstr("linux/amd64, linux/arm64/v8"));
  EXPECT_THAT(none.status().message(), ::testing::Not(HasSubstr("unknown")));
  EXPECT_FALSE(SelectPlatform(index, *ParsePlatform("linux/arm64/v9")).ok());

  // The host's platform is among the offered ones on amd64 and arm64 hosts.
  EXPECT_EQ(HostPlatform().os, "linux");
  EXPECT_TRUE(SelectPlatform(index, HostPlatform()).ok());
}

TEST(PlatformTest, ParsesDockerForm) {
  EXPECT_EQ(ParsePlatform("linux/arm/v7")->ToString(), "linux/arm/v7");
  EXPECT_EQ(ParsePlatform("linux/x86_64")->ToString(), "linux/amd64");
  for (const char* bad : {"linux", "linux/", "/amd64", "a/b/c/d", "linux/arm/"}) {
    auto platform = ParsePlatform(bad);
    ASSERT_FALSE(platform.ok()) << bad;
    EXPECT_THAT(platform.status().message(), HasSubstr("os/arch[/variant]"));
  }
}

}  // namespace
}  // namespace strata::oci
