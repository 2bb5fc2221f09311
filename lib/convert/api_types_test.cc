#include "lib/convert/api_types.h"

#include "gtest/gtest.h"

namespace strata::convert {
namespace {

TEST(ApiTypesTest, RunConfigRoundTrips) {
  oci::RunConfig config;
  config.entrypoint = std::vector<std::string>{"/bin/sh", "-c"};
  config.cmd = std::vector<std::string>{"echo hi"};
  config.env = {"A=1", "B=2"};
  config.working_dir = "/work";
  config.user = "app:app";
  config.stop_signal = "SIGINT";
  config.labels = {{"k", "v"}};
  config.exposed_ports = {"80/tcp"};
  config.volumes = {"/data"};
  types::v1::RunConfig proto;
  ToProto(config, &proto);
  oci::RunConfig back = FromProto(proto);
  EXPECT_EQ(back.entrypoint, config.entrypoint);
  EXPECT_EQ(back.cmd, config.cmd);
  EXPECT_EQ(back.env, config.env);
  EXPECT_EQ(back.working_dir, "/work");
  EXPECT_EQ(back.user, "app:app");
  EXPECT_EQ(back.stop_signal, "SIGINT");
  EXPECT_EQ(back.labels, config.labels);
  EXPECT_EQ(back.exposed_ports, config.exposed_ports);
  EXPECT_EQ(back.volumes, config.volumes);
}

TEST(ApiTypesTest, EmptyListsReadAsAbsent) {
  types::v1::RunConfig proto;
  oci::RunConfig config = FromProto(proto);
  EXPECT_FALSE(config.entrypoint.has_value());
  EXPECT_FALSE(config.cmd.has_value());
}

TEST(ApiTypesTest, LayerDescriptorIsCheckedOnTheWayIn) {
  types::v1::LayerDescriptor proto;
  proto.set_digest("sha256:" + std::string(64, 'a'));
  proto.set_diff_id("sha256:" + std::string(64, 'b'));
  proto.set_media_type("application/vnd.oci.image.layer.v1.tar+zstd");
  proto.set_size(10);
  proto.set_uncompressed_size(20);
  absl::StatusOr<oci::LayerDescriptor> layer = FromProto(proto);
  ASSERT_TRUE(layer.ok()) << layer.status();
  types::v1::LayerDescriptor back;
  ToProto(*layer, &back);
  EXPECT_EQ(back.SerializeAsString(), proto.SerializeAsString());

  proto.set_diff_id("sha256:nothex");
  EXPECT_EQ(FromProto(proto).status().code(), absl::StatusCode::kInvalidArgument);
  proto.set_diff_id("sha256:" + std::string(64, 'b'));
  proto.set_size(-1);
  EXPECT_EQ(FromProto(proto).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace strata::convert
