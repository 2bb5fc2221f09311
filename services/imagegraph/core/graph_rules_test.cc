// The image graph's rules that need no database: references, tag targets, image and layer
// validation, derived chain ids and history, page tokens.

#include "services/imagegraph/core/graph_rules.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/digest/digest.h"
#include "lib/oci/chain_id.h"
#include "services/imagegraph/core/test_images.h"

namespace strata::imagegraph {
namespace {

using testing::BaseImage;
using testing::Commit;
using ::testing::HasSubstr;
using testing::TestTime;
using testing::ToNewImage;

const std::string kHex = std::string(Digest::Of("x").hex());

TEST(ParseImageRefTest, ReadsEveryForm) {
  auto tagged = ParseImageRef("app:1");
  ASSERT_TRUE(tagged.ok());
  ASSERT_TRUE(tagged->tag.has_value());
  EXPECT_EQ(tagged->tag->name, "app");
  EXPECT_EQ(tagged->tag->tag, "1");
  EXPECT_FALSE(tagged->implied_tag);
  EXPECT_TRUE(tagged->full_id.empty());
  EXPECT_TRUE(tagged->prefix.empty());

  auto latest = ParseImageRef("registry.local:5000/team/app");
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->tag->name, "registry.local:5000/team/app");
  EXPECT_EQ(latest->tag->tag, "latest");
  EXPECT_TRUE(latest->implied_tag);

  auto full = ParseImageRef("sha256:" + kHex);
  ASSERT_TRUE(full.ok());
  EXPECT_EQ(full->full_id, "sha256:" + kHex);
  auto bare = ParseImageRef(kHex);
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->full_id, "sha256:" + kHex);
  auto by_digest = ParseImageRef("app@sha256:" + kHex);
  ASSERT_TRUE(by_digest.ok());
  EXPECT_EQ(by_digest->full_id, "sha256:" + kHex);
  EXPECT_FALSE(by_digest->tag.has_value());

  auto prefix = ParseImageRef(kHex.substr(0, 4));
  ASSERT_TRUE(prefix.ok());
  EXPECT_EQ(prefix->prefix, kHex.substr(0, 4));
  EXPECT_TRUE(prefix->tag.has_value());  // "abcd" is also a valid repository name.
  auto sha_prefix = ParseImageRef("sha256:" + kHex.substr(0, 12));
  ASSERT_TRUE(sha_prefix.ok());
  EXPECT_EQ(sha_prefix->prefix, kHex.substr(0, 12));
  auto short_prefix = ParseImageRef(kHex.substr(0, 3));
  ASSERT_TRUE(short_prefix.ok());
  EXPECT_TRUE(short_prefix->prefix.empty());

  auto upper = ParseImageRef("UPPER");
  ASSERT_TRUE(upper.ok());
  EXPECT_FALSE(upper->tag.has_value());
  EXPECT_THAT(upper->not_a_reference, HasSubstr("lowercase"));

  EXPECT_EQ(ParseImageRef("").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ParseTagTargetTest, RejectsWhatDockerRejectsAndSaysWhy) {
  EXPECT_TRUE(ParseTagTarget("app").ok());
  EXPECT_TRUE(ParseTagTarget("localhost:5000/team/app:v1.2_3-rc").ok());
  EXPECT_TRUE(ParseTagTarget("app:" + std::string(128, 't')).ok());
  const std::pair<std::string, std::string> bad[] = {
      {"UPPER", "lowercase"},
      {"../x", "registry host"},
      {"app:" + std::string(129, 't'), "more than 128"},
      {std::string("app\0x", 5), "invalid reference"},
      {"app\"x", "invalid reference"},
      {"x'; DROP TABLE tags; --", "invalid reference"},
      {"app:1 OR 1=1", "tag must match"},
      {"app@sha256:" + kHex, "cannot carry a digest"},
      {kHex, "64 hexadecimal"},
      {"", "empty"},
      {"app:-x", "tag must start"},
  };
  for (const auto& [text, rule] : bad) {
    auto parsed = ParseTagTarget(text);
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_THAT(parsed.status().message(), HasSubstr(rule)) << text;
  }
  // Hostile bytes are escaped in messages.
  auto nul = ParseTagTarget(std::string("app\0x", 5));
  EXPECT_THAT(nul.status().message(), HasSubstr("\\x00"));
}

TEST(PrepareImageTest, DerivesIdChainIdsAndHistory) {
  testing::TestImage base = BaseImage("base", 3, TestTime(0));
  testing::TestImage child = Commit(Commit(base, "make", TestTime(10)), "CMD", TestTime(20),
                                    /*empty_layer=*/true);
  auto prepared = PrepareImage(ToNewImage(child, base.id(), {"app:2", "app", "app:2"}));
  ASSERT_TRUE(prepared.ok()) << prepared.status();
  EXPECT_EQ(prepared->id, Digest::Of(child.bytes()).str());
  std::vector<Digest> diff_ids;
  for (const LayerDescriptor& layer : child.layers) {
    diff_ids.push_back(*Digest::Parse(layer.diff_id));
  }
  const std::vector<Digest> chain_ids = oci::ChainIds(diff_ids);
  ASSERT_EQ(prepared->layers.size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(prepared->layers[i].chain_id, chain_ids[i].str());
    EXPECT_EQ(prepared->layers[i].parent_chain_id, i == 0 ? "" : chain_ids[i - 1].str());
  }
  EXPECT_EQ(prepared->layers[3].created_by, "RUN make");
  ASSERT_EQ(prepared->history.size(), 5u);
  EXPECT_EQ(prepared->history[3].layer_index, 3);
  EXPECT_TRUE(prepared->history[4].empty_layer);
  EXPECT_EQ(prepared->history[4].layer_index, -1);
  EXPECT_EQ(prepared->parent_id, base.id());
  ASSERT_EQ(prepared->tags.size(), 2u);  // Sorted, without the duplicate.
  EXPECT_EQ(prepared->tags[0].ToString(), "app:2");
  EXPECT_EQ(prepared->tags[1].ToString(), "app:latest");
  int64_t size = 0;
  for (const LayerDescriptor& layer : child.layers) size += layer.uncompressed_size;
  EXPECT_EQ(prepared->size, size);
  ASSERT_TRUE(prepared->created.has_value());
  EXPECT_EQ(*prepared->created, TestTime(20));
}

TEST(PrepareImageTest, RejectsInconsistentImages) {
  testing::TestImage image = BaseImage("base", 2, TestTime(0));
  auto code = [](const NewImage& spec) { return PrepareImage(spec).status(); };

  NewImage not_json = ToNewImage(image);
  not_json.config = "{not json";
  EXPECT_EQ(code(not_json).code(), absl::StatusCode::kInvalidArgument);

  NewImage missing_layer = ToNewImage(image);
  missing_layer.layers.pop_back();
  EXPECT_THAT(code(missing_layer).message(), HasSubstr("rootfs.diff_ids lists 2 layers"));

  NewImage swapped = ToNewImage(image);
  std::swap(swapped.layers[0], swapped.layers[1]);
  EXPECT_THAT(code(swapped).message(), HasSubstr("differs from the config's rootfs.diff_ids[0]"));

  NewImage bad_digest = ToNewImage(image);
  bad_digest.layers[1].digest = "sha256:nope";
  EXPECT_THAT(code(bad_digest).message(), HasSubstr("layer 1"));

  NewImage bad_type = ToNewImage(image);
  bad_type.layers[0].media_type = "text/plain";
  EXPECT_THAT(code(bad_type).message(), HasSubstr("is not a layer media type"));

  NewImage negative = ToNewImage(image);
  negative.layers[0].size = -1;
  EXPECT_EQ(code(negative).code(), absl::StatusCode::kInvalidArgument);

  NewImage own_parent = ToNewImage(image, image.id());
  EXPECT_THAT(code(own_parent).message(), HasSubstr("own parent"));

  NewImage short_parent = ToNewImage(image, "sha256:abcd");
  EXPECT_THAT(code(short_parent).message(), HasSubstr("not a full image id"));

  NewImage bad_tag = ToNewImage(image, "", {"ok:1", "Not/Ok"});
  EXPECT_THAT(code(bad_tag).message(), HasSubstr("lowercase"));

  // History steps with a layer must match the layers.
  testing::TestImage extra = image;
  extra.config.AddLayer(*Digest::Parse(testing::TestLayer("x").diff_id), oci::History{});
  NewImage history_mismatch = ToNewImage(extra);
  history_mismatch.layers.push_back(testing::TestLayer("x"));
  EXPECT_TRUE(PrepareImage(history_mismatch).ok());
  nlohmann::json doc = extra.config.document();
  doc["history"].erase(doc["history"].size() - 1);
  history_mismatch.config = doc.dump();
  EXPECT_THAT(code(history_mismatch).message(), HasSubstr("history has 2 steps with a layer"));

  // NUL cannot be stored as text: refused, not truncated.
  nlohmann::json nul = image.config.document();
  nul["history"][0]["created_by"] = std::string("a\0b", 3);
  NewImage with_nul = ToNewImage(image);
  with_nul.config = nul.dump();
  EXPECT_THAT(code(with_nul).message(), HasSubstr("NUL"));
}

TEST(PrepareImageTest, SynthesizesHistoryForConfigsWithout) {
  testing::TestImage image = BaseImage("bare", 2, TestTime(0));
  nlohmann::json doc = image.config.document();
  doc.erase("history");
  NewImage spec = ToNewImage(image);
  spec.config = doc.dump();
  auto prepared = PrepareImage(spec);
  ASSERT_TRUE(prepared.ok()) << prepared.status();
  ASSERT_EQ(prepared->history.size(), 2u);
  EXPECT_EQ(prepared->history[1].layer_index, 1);
}

TEST(PrepareLayerTest, ChecksTheChainId) {
  LayerDescriptor blob = testing::TestLayer("l");
  Layer base{.chain_id = blob.diff_id, .blob = blob};
  EXPECT_TRUE(PrepareLayer(base).ok());
  Layer child{.chain_id = blob.diff_id, .parent_chain_id = blob.diff_id, .blob = blob};
  auto status = PrepareLayer(child).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("chain(parent, diff id)"));
  child.chain_id = oci::ChainId(*Digest::Parse(blob.diff_id), *Digest::Parse(blob.diff_id)).str();
  auto prepared = PrepareLayer(child);
  ASSERT_TRUE(prepared.ok()) << prepared.status();
  Layer no_media = base;
  no_media.blob.media_type = "";
  EXPECT_EQ(PrepareLayer(no_media)->blob.media_type, "application/vnd.oci.image.layer.v1.tar+zstd");
  Layer bad = base;
  bad.chain_id = "sha256:" + std::string(63, 'a');
  EXPECT_EQ(PrepareLayer(bad).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(PageTokenTest, RoundTripsAndRejectsForgeries) {
  ImagePageKey key{.created_micros = 1714564800123456, .id = "sha256:" + kHex};
  auto decoded = DecodeImagePageToken(EncodeImagePageToken(key));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->created_micros, key.created_micros);
  EXPECT_EQ(decoded->id, key.id);
  ImagePageKey undated{.id = "sha256:" + kHex};
  EXPECT_FALSE(DecodeImagePageToken(EncodeImagePageToken(undated))->created_micros.has_value());
  for (const std::string& bad :
       {std::string("nope"), std::string("!!"), EncodeBlobPageToken("sha256:" + kHex)}) {
    EXPECT_EQ(DecodeImagePageToken(bad).status().code(), absl::StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(*DecodeBlobPageToken(EncodeBlobPageToken("sha256:" + kHex)), "sha256:" + kHex);
  EXPECT_EQ(DecodeBlobPageToken("x'; --").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace strata::imagegraph
