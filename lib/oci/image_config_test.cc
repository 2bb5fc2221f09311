#include "lib/oci/image_config.h"

#include "gtest/gtest.h"

namespace strata::oci {
namespace {

const char kDockerConfig[] = R"({
  "architecture": "amd64",
  "os": "linux",
  "created": "2024-05-01T12:00:00.5Z",
  "config": {"Cmd": ["sh"], "Env": ["PATH=/bin"], "Healthcheck": {"Test": ["NONE"]},
             "Labels": {"a": "b"}, "ExposedPorts": {"80/tcp": {}}},
  "rootfs": {"type": "layers", "diff_ids": [
    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"]},
  "history": [{"created": "2024-05-01T12:00:00Z", "created_by": "ADD rootfs", "comment": "c"},
              {"created_by": "CMD [\"sh\"]", "empty_layer": true}],
  "variant": "v8"
})";

TEST(ImageConfigTest, ParsesTheFieldsWeUse) {
  auto config = ImageConfig::Parse(kDockerConfig);
  ASSERT_TRUE(config.ok()) << config.status();
  RunConfig run = config->run_config();
  ASSERT_TRUE(run.cmd.has_value());
  EXPECT_EQ(*run.cmd, std::vector<std::string>{"sh"});
  EXPECT_FALSE(run.entrypoint.has_value());
  EXPECT_EQ(run.env, std::vector<std::string>{"PATH=/bin"});
  EXPECT_EQ(run.labels.at("a"), "b");
  EXPECT_EQ(run.exposed_ports, std::vector<std::string>{"80/tcp"});
  EXPECT_EQ(config->diff_ids().size(), 1u);
  auto history = config->history();
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[0].created_by, "ADD rootfs");
  EXPECT_TRUE(history[1].empty_layer);
}

TEST(ImageConfigTest, KeepsUnknownFieldsAndSerializesDeterministically) {
  auto config = ImageConfig::Parse(kDockerConfig);
  ASSERT_TRUE(config.ok());
  RunConfig run = config->run_config();
  run.entrypoint = std::vector<std::string>{"/bin/sh", "-c"};
  config->set_run_config(run);
  config->AddLayer(Digest::Of("x"), {.created = "2024-05-02T00:00:00Z", .created_by = "sh"});
  const std::string bytes = config->Serialize();
  EXPECT_NE(bytes.find("\"variant\":\"v8\""), std::string::npos);
  EXPECT_NE(bytes.find("Healthcheck"), std::string::npos);
  auto again = ImageConfig::Parse(bytes);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->Serialize(), bytes);
  EXPECT_EQ(again->diff_ids().size(), 2u);
  EXPECT_EQ(again->history().size(), 3u);
}

TEST(ImageConfigTest, RejectsMalformed) {
  for (const char* bad : {
           "",
           "[]",
           "{}",
           "not json",
           R"({"rootfs": {"type": "layers", "diff_ids": ["sha256:zz"]}})",
           R"({"rootfs": {"type": "other", "diff_ids": []}})",
           R"({"rootfs": {"type": "layers", "diff_ids": []}, "config": {"Cmd": "sh"}})",
           R"({"rootfs": {"type": "layers", "diff_ids": []}, "history": [1]})",
           R"({"rootfs": {"type": "layers", "diff_ids": []}, "created": "yesterday"})",
       }) {
    auto config = ImageConfig::Parse(bad);
    EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(ImageConfigTest, TimeRoundTrip) {
  absl::Time t = absl::FromUnixNanos(1714564800123456789);
  EXPECT_EQ(FormatRfc3339(t), "2024-05-01T12:00:00.123456789Z");
  EXPECT_EQ(*ParseRfc3339(FormatRfc3339(t)), t);
  EXPECT_TRUE(ParseRfc3339("2024-05-01T12:00:00Z").ok());
  EXPECT_TRUE(ParseRfc3339("2024-05-01T14:00:00+02:00").ok());
}

TEST(ImageConfigTest, NewConfigIsValid) {
  ImageConfig config;
  auto parsed = ImageConfig::Parse(config.Serialize());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->os(), "linux");
}

}  // namespace
}  // namespace strata::oci
