#include "services/runtime/core/run_spec.h"

#include "gtest/gtest.h"

namespace strata::runtime {
namespace {

using Strings = std::vector<std::string>;

oci::RunConfig Image() {
  oci::RunConfig image;
  image.entrypoint = {"/entry"};
  image.cmd = {"default", "args"};
  image.env = {"PATH=/bin", "A=1"};
  image.working_dir = "/app";
  image.user = "app";
  return image;
}

TEST(RunSpecTest, NoOverridesKeepsTheImage) {
  auto merged = MergeRunSpec(Image(), {});
  ASSERT_TRUE(merged.ok());
  EXPECT_EQ(*CommandLine(*merged), (Strings{"/entry", "default", "args"}));
}

TEST(RunSpecTest, CmdReplacesCmdOnly) {
  RunOverrides overrides;
  overrides.cmd = {"other"};
  auto merged = MergeRunSpec(Image(), overrides);
  EXPECT_EQ(*CommandLine(*merged), (Strings{"/entry", "other"}));
}

TEST(RunSpecTest, EntrypointOverrideDropsImageCmd) {
  RunOverrides overrides;
  overrides.entrypoint = Strings{"/bin/sh"};
  auto merged = MergeRunSpec(Image(), overrides);
  EXPECT_EQ(*CommandLine(*merged), (Strings{"/bin/sh"}));
  overrides.cmd = {"-c", "true"};
  merged = MergeRunSpec(Image(), overrides);
  EXPECT_EQ(*CommandLine(*merged), (Strings{"/bin/sh", "-c", "true"}));
}

TEST(RunSpecTest, EmptyEntrypointClearsIt) {
  RunOverrides overrides;
  overrides.entrypoint = Strings{};
  overrides.cmd = {"ls"};
  auto merged = MergeRunSpec(Image(), overrides);
  EXPECT_EQ(*CommandLine(*merged), (Strings{"ls"}));
}

TEST(RunSpecTest, EnvAddsAndReplacesByKey) {
  RunOverrides overrides;
  overrides.env = {"A=2", "B=3", "EMPTY"};
  auto merged = MergeRunSpec(Image(), overrides);
  EXPECT_EQ(merged->env, (Strings{"PATH=/bin", "A=2", "B=3", "EMPTY="}));
  overrides.env = {"=x"};
  EXPECT_EQ(MergeRunSpec(Image(), overrides).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(RunSpecTest, NoCommandIsAnError) {
  EXPECT_EQ(CommandLine(oci::RunConfig{}).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace strata::runtime
