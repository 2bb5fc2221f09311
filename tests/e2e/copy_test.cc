// `strata cp` both ways, as docker's: placement, ownership (-a), -L, tar on stdin, docker's
// errors, hostile symlinks inside the container that must never lead outside it, and local
// destinations that are symlinks (never replaced).

#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "lib/base/fs.h"
#include "lib/base/subprocess.h"
#include "tests/e2e/stack.h"

namespace strata::e2e {
namespace {

class CopyTest : public BaseImageSuite {
 protected:
  CommandResult Strata(const std::vector<std::string>& args, const std::string& input = "") {
    return stack_->Strata(args, input);
  }
  std::string Local(const std::string& name) { return stack_->dir() + "/" + name; }
  void Write(const std::string& name, const std::string& contents) {
    ASSERT_TRUE(WriteFileAtomically(Local(name), contents).ok());
  }
  // The container's changes, one "X /path" per line.
  std::string Diff(const std::string& container) { return Strata({"diff", container}).output; }
};

TEST_F(CopyTest, IntoAStoppedContainerLandsInItsWritableLayer) {
  ASSERT_EQ(Strata({"run", "--name", "in", "base", "true"}).exit_code, 0);
  Write("hello.txt", "hello\n");
  ASSERT_TRUE(MakeDirs(Local("tree/sub")).ok());
  Write("tree/sub/a", "a\n");
  ASSERT_EQ(::chown(Local("hello.txt").c_str(), 1234, 4321), 0);
  ASSERT_EQ(::chown(Local("tree/sub/a").c_str(), 1234, 4321), 0);

  // Into an existing directory under its own name; as a new name; a directory, merged.
  CommandResult into = Strata({"cp", Local("hello.txt"), "in:/tmp"});
  ASSERT_EQ(into.exit_code, 0) << into.error_output;
  ASSERT_EQ(Strata({"cp", Local("hello.txt"), "in:/renamed.txt"}).exit_code, 0);
  ASSERT_EQ(Strata({"cp", "-a", Local("hello.txt"), "in:/kept.txt"}).exit_code, 0);
  ASSERT_EQ(Strata({"cp", Local("tree"), "in:/opt"}).exit_code, 0);
  ASSERT_EQ(Strata({"cp", Local("tree/."), "in:/contents"}).exit_code, 0);

  const std::string diff = Diff("in");
  for (const char* line : {"A /tmp/hello.txt", "A /renamed.txt", "A /kept.txt", "A /opt",
                           "A /opt/sub/a", "A /contents/sub/a"}) {
    EXPECT_TRUE(absl::StrContains(diff, line)) << line << " in:\n" << diff;
  }
  // Committed, the image holds them: root's without -a, the source's uid/gid with it.
  ASSERT_EQ(Strata({"commit", "in", "copied:1"}).exit_code, 0);
  CommandResult seen = Strata({"run", "--rm", "copied:1", "sh", "-c",
                               "cat /tmp/hello.txt /opt/sub/a; stat -c '%u:%g' "
                               "/tmp/hello.txt /kept.txt /opt/sub/a"});
  EXPECT_EQ(seen.output, "hello\na\n0:0\n1234:4321\n0:0\n") << seen.error_output;
}

TEST_F(CopyTest, IntoARunningContainerAndFromATarOnStdin) {
  ASSERT_EQ(Strata({"run", "-d", "--name", "live", "base", "sleep", "60"}).exit_code, 0);
  Write("live.txt", "live\n");
  ASSERT_EQ(Strata({"cp", Local("live.txt"), "live:/"}).exit_code, 0);
  ASSERT_TRUE(MakeDirs(Local("tarsrc/d")).ok());
  Write("tarsrc/d/f", "from a tar\n");
  absl::StatusOr<CommandResult> tar =
      RunCommand({"tar", "-C", Local("tarsrc"), "-cf", Local("in.tar"), "d"});
  ASSERT_TRUE(tar.ok() && tar->exit_code == 0);
  absl::StatusOr<std::string> tar_bytes = ReadFile(Local("in.tar"));
  ASSERT_TRUE(tar_bytes.ok());
  CommandResult piped = Strata({"cp", "-", "live:/tmp"}, *tar_bytes);
  EXPECT_EQ(piped.exit_code, 0) << piped.error_output;
  CommandResult seen = Strata({"exec", "live", "cat", "/live.txt", "/tmp/d/f"});
  EXPECT_EQ(seen.output, "live\nfrom a tar\n") << seen.error_output;
  // A bare tar needs a directory.
  CommandResult not_dir = Strata({"cp", "-", "live:/live.txt"}, *tar_bytes);
  EXPECT_NE(not_dir.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(not_dir.error_output, "must be a directory"))
      << not_dir.error_output;
  Strata({"rm", "-f", "live"});
}

TEST_F(CopyTest, DockersErrors) {
  ASSERT_EQ(Strata({"run", "--name", "errs", "base", "true"}).exit_code, 0);
  Write("file", "x\n");
  ASSERT_TRUE(MakeDirs(Local("adir")).ok());
  auto error_of = [&](const std::vector<std::string>& args) {
    CommandResult result = Strata(args);
    EXPECT_NE(result.exit_code, 0) << absl::StrJoin(args, " ");
    return result.error_output;
  };
  EXPECT_TRUE(absl::StrContains(error_of({"cp", Local("adir"), "errs:/etc/passwd"}),
                                "cannot copy directory"));
  EXPECT_TRUE(
      absl::StrContains(error_of({"cp", Local("file"), "errs:/newdir/"}), "no such directory"));
  EXPECT_TRUE(absl::StrContains(error_of({"cp", Local("file"), "errs:/nope/x"}),
                                "Could not find the file /nope in container errs"));
  EXPECT_TRUE(absl::StrContains(error_of({"cp", Local("missing"), "errs:/"}), "lstat"));
  EXPECT_TRUE(absl::StrContains(error_of({"cp", "errs:/a", "errs:/b"}),
                                "copying between containers is not supported"));
  EXPECT_TRUE(absl::StrContains(error_of({"cp", Local("file"), Local("other")}),
                                "must specify at least one container source"));
  Write(".wh.victim", "");
  EXPECT_TRUE(absl::StrContains(error_of({"cp", Local(".wh.victim"), "errs:/etc/"}), ".wh."));
  // Copy out: a file onto "DIR/" that does not exist.
  EXPECT_TRUE(absl::StrContains(error_of({"cp", "errs:/etc/passwd", Local("nodir/")}),
                                "no such directory"));
  EXPECT_TRUE(
      absl::StrContains(error_of({"cp", "errs:/etc", Local("file")}), "cannot copy directory"));
}

TEST_F(CopyTest, HostileLinksInTheContainerNeverLeadOutside) {
  // The container points links at the host's root and far above its own.
  ASSERT_EQ(Strata({"run", "--name", "evil", "base", "sh", "-c",
                    "ln -s / /etc/evil; ln -s ../../../../.. /up; ln -s /etc/evil/tmp /t"})
                .exit_code,
            0);
  const std::string marker = "strata-cp-escape-" + std::to_string(::getpid());
  Write(marker, "pwned\n");
  ASSERT_EQ(Strata({"cp", Local(marker), "evil:/etc/evil/"}).exit_code, 0);
  ASSERT_EQ(Strata({"cp", Local(marker), "evil:/up/"}).exit_code, 0);
  ASSERT_EQ(Strata({"cp", Local(marker), "evil:/t"}).exit_code, 0);
  // Nothing reached the host's / or /tmp; all of it is in the container.
  EXPECT_FALSE(PathExists("/" + marker));
  EXPECT_FALSE(PathExists("/tmp/" + marker));
  const std::string diff = Diff("evil");
  EXPECT_TRUE(absl::StrContains(diff, "A /" + marker)) << diff;
  EXPECT_TRUE(absl::StrContains(diff, "A /tmp/" + marker)) << diff;
  // Copying out through the same links reads the container's files, not the host's.
  CommandResult out = Strata({"cp", "evil:/etc/evil/etc/passwd", Local("their-passwd")});
  ASSERT_EQ(out.exit_code, 0) << out.error_output;
  absl::StatusOr<std::string> theirs = ReadFile(Local("their-passwd"));
  absl::StatusOr<std::string> host = ReadFile("/etc/passwd");
  ASSERT_TRUE(theirs.ok() && host.ok());
  EXPECT_NE(*theirs, *host);
}

TEST_F(CopyTest, FollowLinkInTheSource) {
  ASSERT_EQ(Strata({"run", "--name", "follow", "base", "true"}).exit_code, 0);
  Write("target.txt", "target\n");
  ASSERT_EQ(::symlink(Local("target.txt").c_str(), Local("link.txt").c_str()), 0);
  ASSERT_EQ(Strata({"cp", Local("link.txt"), "follow:/asis"}).exit_code, 0);
  ASSERT_EQ(Strata({"cp", "-L", Local("link.txt"), "follow:/tmp"}).exit_code, 0);
  ASSERT_EQ(Strata({"commit", "follow", "followed:1"}).exit_code, 0);
  CommandResult seen = Strata({"run", "--rm", "followed:1", "sh", "-c",
                               "[ -L /asis ] && echo link; [ -L /tmp/link.txt ] || cat "
                               "/tmp/link.txt"});
  EXPECT_EQ(seen.output, "link\ntarget\n") << seen.error_output;
}

TEST_F(CopyTest, OutOntoALocalSymlinkNeverReplacesIt) {
  ASSERT_EQ(Strata({"run", "--name", "out", "base", "true"}).exit_code, 0);
  ASSERT_TRUE(MakeDirs(Local("realdir")).ok());
  ASSERT_EQ(::symlink(Local("realdir").c_str(), Local("dirlink").c_str()), 0);
  CommandResult into = Strata({"cp", "out:/etc/keep", Local("dirlink")});
  ASSERT_EQ(into.exit_code, 0) << into.error_output;
  EXPECT_TRUE(PathExists(Local("realdir/keep")));
  struct stat st;
  ASSERT_EQ(::lstat(Local("dirlink").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  // A dangling link: the copy is made where it points, the link stays.
  ASSERT_EQ(::symlink(Local("realdir/made").c_str(), Local("dangling").c_str()), 0);
  CommandResult dangling = Strata({"cp", "out:/etc/keep", Local("dangling")});
  ASSERT_EQ(dangling.exit_code, 0) << dangling.error_output;
  EXPECT_TRUE(PathExists(Local("realdir/made")));
  ASSERT_EQ(::lstat(Local("dangling").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  // One whose target's directory is missing: an error, and nothing replaced.
  ASSERT_EQ(::symlink(Local("nowhere/x").c_str(), Local("broken").c_str()), 0);
  CommandResult broken = Strata({"cp", "out:/etc/keep", Local("broken")});
  EXPECT_NE(broken.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(broken.error_output, "no such file or directory") ||
              absl::StrContains(broken.error_output, "No such file"))
      << broken.error_output;
  ASSERT_EQ(::lstat(Local("broken").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
}

}  // namespace
}  // namespace strata::e2e
