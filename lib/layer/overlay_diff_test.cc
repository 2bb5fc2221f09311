// The overlay diff on a real overlay mount: the same operations podman's test ran give the
// same letters, and the opaque directory case follows our documented rule.

#include "lib/layer/overlay_diff.h"

#include <sys/mount.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "lib/base/fs.h"
#include "lib/testing/subprocess.h"
#include "lib/testing/temp_dir.h"
#include "lib/testing/tree.h"

namespace strata::layer {
namespace {

class OverlayDiffTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* dir : {"lower1", "lower2", "upper", "work", "merged"}) {
      ASSERT_TRUE(MakeDirs(dir_.Join(dir)).ok());
    }
    // The bottom layer.
    ASSERT_TRUE(testing::RunOk({"/bin/sh", "-c",
                                "cd " + dir_.Join("lower1") +
                                    " && mkdir -p etc tmp var/lib/data/sub olddir && "
                                    "echo keep > etc/keep && echo mod > etc/mod && "
                                    "echo del > etc/del && echo a > var/lib/data/a && "
                                    "echo b > var/lib/data/b && echo c > var/lib/data/sub/c && "
                                    "echo x > olddir/x && echo old > etc/replaced"})
                    .ok());
    // A layer above it deletes one file.
    ASSERT_TRUE(
        testing::RunOk({"/bin/sh", "-c",
                        "cd " + dir_.Join("lower2") + " && mkdir etc && mknod etc/replaced c 0 0"})
            .ok());
    const std::string options =
        absl::StrCat("lowerdir=", dir_.Join("lower2"), ":", dir_.Join("lower1"),
                     ",upperdir=", dir_.Join("upper"), ",workdir=", dir_.Join("work"),
                     ",redirect_dir=off,metacopy=off,index=off");
    ASSERT_EQ(::mount("overlay", dir_.Join("merged").c_str(), "overlay", 0, options.c_str()), 0)
        << strerror(errno);
    mounted_ = true;
  }

  void TearDown() override {
    if (mounted_) ::umount2(dir_.Join("merged").c_str(), MNT_DETACH);
  }

  void Run(const std::string& script) {
    ASSERT_TRUE(
        testing::RunOk({"/bin/sh", "-c", "cd " + dir_.Join("merged") + " && " + script}).ok());
  }

  std::string Diff() {
    auto changes = OverlayChanges(dir_.Join("upper"), {dir_.Join("lower2"), dir_.Join("lower1")});
    EXPECT_TRUE(changes.ok()) << changes.status();
    std::vector<std::string> lines;
    for (const Change& change : *changes) {
      lines.push_back(absl::StrCat(std::string(1, ChangeLetter(change.kind)), " ", change.path));
    }
    return absl::StrJoin(lines, "\n");
  }

  testing::TempDir dir_{"overlay-diff"};
  bool mounted_ = false;
};

TEST_F(OverlayDiffTest, MatchesPodmanForTheCommonOperations) {
  Run("echo new > etc/added && echo changed >> etc/mod && rm etc/del && mv olddir newdir && "
      "chmod 600 etc/keep && mkdir newdir2 && echo y > newdir2/y && ln -s /etc/keep etc/link && "
      "ln etc/added etc/hard && echo z > tmp/z && rm tmp/z && echo again > etc/replaced");
  // What `podman diff` printed for the same operations (sorted).
  EXPECT_EQ(Diff(),
            "C /etc\n"
            "A /etc/added\n"
            "D /etc/del\n"
            "A /etc/hard\n"
            "C /etc/keep\n"
            "A /etc/link\n"
            "C /etc/mod\n"
            "A /etc/replaced\n"
            "A /newdir\n"
            "A /newdir/x\n"
            "A /newdir2\n"
            "A /newdir2/y\n"
            "D /olddir\n"
            "C /tmp");
}

TEST_F(OverlayDiffTest, AChangeDeepInsideListsOnlyChangedDirectories) {
  Run("echo more >> var/lib/data/sub/c");
  EXPECT_EQ(Diff(), "C /var/lib/data/sub/c");
  Run("echo new > var/lib/data/sub/n");
  EXPECT_EQ(Diff(),
            "C /var\n"
            "C /var/lib\n"
            "C /var/lib/data\n"
            "C /var/lib/data/sub\n"
            "C /var/lib/data/sub/c\n"
            "A /var/lib/data/sub/n");
}

TEST_F(OverlayDiffTest, RecreatedDirectoryListsWhatItLost) {
  Run("rm -rf var/lib/data && mkdir var/lib/data && echo a2 > var/lib/data/a");
  EXPECT_EQ(Diff(),
            "C /var\n"
            "C /var/lib\n"
            "C /var/lib/data\n"
            "C /var/lib/data/a\n"
            "D /var/lib/data/b\n"
            "D /var/lib/data/sub");
}

TEST_F(OverlayDiffTest, DeletedDirectoryIsOneLine) {
  Run("rm -rf var/lib/data");
  EXPECT_EQ(Diff(), "C /var\nC /var/lib\nD /var/lib/data");
}

TEST_F(OverlayDiffTest, NoChangeNoLines) { EXPECT_EQ(Diff(), ""); }

}  // namespace
}  // namespace strata::layer
