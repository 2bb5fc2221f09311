// run -v, --mount and --tmpfs: the files are the host's (or a tmpfs), read-only when asked,
// and neither the mount points nor what is written through them ever shows in diff or goes
// into a commit; a missing host path is docker's error for --mount, and made for -v.

#include <sys/stat.h>

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "lib/base/fs.h"
#include "tests/e2e/stack.h"

namespace strata::e2e {
namespace {

class MountsTest : public BaseImageSuite {
 protected:
  std::string Host(const std::string& name) { return stack_->dir() + "/" + name; }
};

TEST_F(MountsTest, BindMountsAreTheHostsAndStayOutOfDiffAndCommit) {
  ASSERT_TRUE(MakeDirs(Host("shared")).ok());
  ASSERT_TRUE(WriteFileAtomically(Host("shared/from-host"), "host data\n").ok());
  CommandResult run = stack_->Strata(
      {"run", "--name", "binds", "-v", Host("shared") + ":/data", "--mount",
       "type=bind,source=" + Host("shared") + ",target=/deep/new/ro,readonly", "base", "sh", "-c",
       "cat /data/from-host; echo written > /data/from-container; echo x > /deep/new/ro/y "
       "2>/dev/null || echo read-only; echo kept > /kept"});
  ASSERT_EQ(run.exit_code, 0) << run.error_output;
  EXPECT_EQ(run.output, "host data\nread-only\n");
  absl::StatusOr<std::string> written = ReadFile(Host("shared/from-container"));
  ASSERT_TRUE(written.ok());
  EXPECT_EQ(*written, "written\n");

  CommandResult diff = stack_->Strata({"diff", "binds"});
  EXPECT_EQ(diff.output, "A /kept\n") << diff.error_output;
  ASSERT_EQ(stack_->Strata({"commit", "binds", "binds:1"}).exit_code, 0);
  CommandResult image = stack_->Strata(
      {"run", "--rm", "binds:1", "sh", "-c", "cat /kept; ls -d /data /deep 2>&1 || true"});
  EXPECT_EQ(image.exit_code, 0) << image.error_output;
  EXPECT_TRUE(absl::StartsWith(image.output, "kept\n")) << image.output;
  EXPECT_FALSE(absl::StrContains(image.output, "/data\n")) << image.output;
  EXPECT_TRUE(absl::StrContains(image.output, "No such file")) << image.output;
  // Started again, the mounts are there again.
  CommandResult again = stack_->Strata({"start", "-a", "binds"});
  EXPECT_TRUE(absl::StartsWith(again.output, "host data\n")) << again.output;
}

TEST_F(MountsTest, MissingHostPaths) {
  CommandResult refused =
      stack_->Strata({"run", "--rm", "--mount", "type=bind,source=" + Host("absent") + ",target=/x",
                      "base", "true"});
  EXPECT_EQ(refused.exit_code, 125);
  EXPECT_TRUE(absl::StrContains(refused.error_output,
                                "invalid mount config for type \"bind\": bind source path "
                                "does not exist: " +
                                    Host("absent")))
      << refused.error_output;
  // -v makes the host directory, as docker does.
  CommandResult made =
      stack_->Strata({"run", "--rm", "-v", Host("made-by-v") + ":/m", "base", "touch", "/m/f"});
  EXPECT_EQ(made.exit_code, 0) << made.error_output;
  EXPECT_TRUE(PathExists(Host("made-by-v/f")));
  // Named volumes and bad modes are refused with a reason.
  CommandResult named = stack_->Strata({"run", "--rm", "-v", "myvol:/x", "base", "true"});
  EXPECT_EQ(named.exit_code, 125);
  EXPECT_TRUE(absl::StrContains(named.error_output, "named volumes")) << named.error_output;
  CommandResult mode =
      stack_->Strata({"run", "--rm", "-v", Host("shared") + ":/x:bogus", "base", "true"});
  EXPECT_TRUE(absl::StrContains(mode.error_output, "invalid mode: bogus")) << mode.error_output;
}

TEST_F(MountsTest, TmpfsMounts) {
  CommandResult run = stack_->Strata(
      {"run", "--name", "tmpfs", "--tmpfs", "/scratch:size=2m", "--mount",
       "type=tmpfs,target=/t2,tmpfs-size=1m", "base", "sh", "-c",
       "echo a > /scratch/a; echo b > /t2/b; grep -E ' /(scratch|t2) ' /proc/mounts | "
       "cut -d' ' -f1-3 | sort"});
  ASSERT_EQ(run.exit_code, 0) << run.error_output;
  EXPECT_EQ(run.output, "tmpfs /scratch tmpfs\ntmpfs /t2 tmpfs\n");
  CommandResult diff = stack_->Strata({"diff", "tmpfs"});
  EXPECT_EQ(diff.output, "") << diff.error_output;
}

}  // namespace
}  // namespace strata::e2e
