#include "cli/core/docker_words.h"

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace strata::gateway {
namespace {

TEST(DockerWordsTest, TagTargetsDockerRefuses) {
  const std::string hex(64, 'a');
  EXPECT_TRUE(CheckTagTarget("app:1").ok());
  EXPECT_TRUE(CheckTagTarget("registry.example:5000/team/app").ok());
  EXPECT_EQ(CheckTagTarget(hex).message(),
            "Error parsing reference: \"" + hex + "\" is not a valid repository/tag: invalid "
            "repository name (" + hex + "), cannot specify 64-byte hexadecimal strings");
  EXPECT_EQ(CheckTagTarget(hex + ":v1").message(),
            "invalid repository name (" + hex + "), cannot specify 64-byte hexadecimal strings");
  EXPECT_EQ(CheckTagTarget("sha256:v1").message(),
            "refusing to create an ambiguous tag using digest algorithm as name");
  EXPECT_EQ(CheckTagTarget("sha256").message(),
            "refusing to create an ambiguous tag using digest algorithm as name");
  absl::Status upper = CheckTagTarget("UPPER:case");
  EXPECT_EQ(upper.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(upper.message(), "Error parsing reference: \"UPPER:case\" is not a "
                                                "valid repository/tag: invalid reference format: "))
      << upper.message();
}

TEST(DockerWordsTest, ConflictsAsDockerSaysThem) {
  EXPECT_EQ(DockerConflict("conflict: unable to delete 0123456789ab (must be forced) - image is "
                           "referenced in multiple repositories (app:1, app:2)"),
            "conflict: unable to delete 0123456789ab (must be forced) - image is referenced in "
            "multiple repositories");
  EXPECT_EQ(DockerConflict("conflict: unable to delete 0123456789ab (cannot be forced) - image "
                           "has dependent child images (abc)"),
            "conflict: unable to delete 0123456789ab (cannot be forced) - image has dependent "
            "child images");
  EXPECT_EQ(DockerConflict("other"), "other");
}

TEST(DockerWordsTest, NamesInNoSuchImage) {
  EXPECT_EQ(ImageNameForError("busybox"), "busybox:latest");
  EXPECT_EQ(ImageNameForError("nope:1"), "nope:1");
  EXPECT_EQ(ImageNameForError("localhost:5000/app"), "localhost:5000/app:latest");
  EXPECT_EQ(ImageNameForError("sha256:abc"), "sha256:abc");
  EXPECT_EQ(ImageNameForError("Bad Name"), "Bad Name");
  EXPECT_EQ(EmptyNameError("container").message(), "invalid container name or ID: value is empty");
}

}  // namespace
}  // namespace strata::gateway
