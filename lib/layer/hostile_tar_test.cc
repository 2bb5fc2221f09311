// Hostile layers: whatever an archive says, unpacking writes nothing outside the target.

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "lib/base/fs.h"
#include "lib/layer/tar_writer.h"
#include "lib/layer/unpacker.h"
#include "lib/testing/temp_dir.h"
#include "lib/testing/tree.h"

namespace strata::layer {
namespace {

TarHeader File(const std::string& path, int64_t size = 0) {
  TarHeader header;
  header.path = path;
  header.mode = S_IFREG | 0644;
  header.size = size;
  return header;
}

TarHeader Symlink(const std::string& path, const std::string& target) {
  TarHeader header;
  header.path = path;
  header.mode = S_IFLNK | 0777;
  header.symlink_target = target;
  return header;
}

TarHeader Hardlink(const std::string& path, const std::string& target) {
  TarHeader header = File(path);
  header.hardlink_target = target;
  return header;
}

class HostileTarTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_.Join("root");
    outside_ = dir_.Join("outside");
    ASSERT_TRUE(MakeDirs(root_).ok());
    ASSERT_TRUE(MakeDirs(outside_).ok());
    testing::WriteFileOrDie(outside_ + "/secret", "secret");
    outside_before_ = *testing::DescribeTree(dir_.path() + "/outside");
  }

  // Builds an archive of the headers (regular files get `content` as their bytes) and
  // unpacks it into root_.
  absl::Status Unpack(const std::vector<TarHeader>& headers, const std::string& content = "") {
    StringSink tar;
    {
      TarWriter writer(&tar);
      const std::string content_path = dir_.Join("content");
      testing::WriteFileOrDie(content_path, content);
      for (TarHeader header : headers) {
        UniqueFd content_fd(::open(content_path.c_str(), O_RDONLY));
        if (S_ISREG(header.mode) && header.hardlink_target.empty()) {
          header.size = static_cast<int64_t>(content.size());
        }
        EXPECT_TRUE(writer.WriteEntry(header, content_fd.get()).ok());
      }
      EXPECT_TRUE(writer.Finish().ok());
    }
    UniqueFd root_fd(::open(root_.c_str(), O_RDONLY | O_DIRECTORY));
    StringSource source(tar.contents());
    return UnpackLayer(&source, root_fd.get()).status();
  }

  void ExpectOutsideUntouched() {
    EXPECT_EQ(*testing::DescribeTree(outside_), outside_before_);
    struct stat st;
    ASSERT_EQ(::stat((outside_ + "/secret").c_str(), &st), 0);
    EXPECT_EQ(st.st_nlink, 1u) << "something hard-linked the file outside";
    EXPECT_FALSE(PathExists(dir_.Join("escaped")));
  }

  testing::TempDir dir_{"hostile"};
  std::string root_;
  std::string outside_;
  std::string outside_before_;
};

TEST_F(HostileTarTest, DotDotIsRefused) {
  absl::Status status = Unpack({File("../escaped")}, "x");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  status = Unpack({File("a/../../escaped")}, "x");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  ExpectOutsideUntouched();
}

TEST_F(HostileTarTest, AbsolutePathsLandInside) {
  ASSERT_TRUE(Unpack({File("/abs/file")}, "x").ok());
  EXPECT_TRUE(PathExists(root_ + "/abs/file"));
  ExpectOutsideUntouched();
}

TEST_F(HostileTarTest, SymlinksClimbingOutStopAtTheRoot) {
  // "up" climbs out relatively, "slash" absolutely; both resolve to the root itself.
  ASSERT_TRUE(Unpack({Symlink("up", "../.."), File("up/escaped"), Symlink("slash", "/"),
                      File("slash/rooted")},
                     "overwritten")
                  .ok());
  ExpectOutsideUntouched();
  EXPECT_TRUE(PathExists(root_ + "/escaped"));
  EXPECT_TRUE(PathExists(root_ + "/rooted"));
}

TEST_F(HostileTarTest, SymlinkToTheHostsDirectoryIsNotFollowedThere) {
  // "evil" names the outside directory by its host path: inside the root that path does not
  // exist, so writing through it fails instead of touching the host.
  absl::Status status = Unpack({Symlink("evil", outside_), File("evil/secret")}, "overwritten");
  EXPECT_FALSE(status.ok());
  ExpectOutsideUntouched();
  // Once the path exists inside, the write lands there.
  ASSERT_TRUE(MakeDirs(root_ + outside_).ok());
  ASSERT_TRUE(Unpack({Symlink("evil", outside_), File("evil/secret")}, "overwritten").ok());
  ExpectOutsideUntouched();
  EXPECT_TRUE(PathExists(root_ + outside_ + "/secret"));
}

TEST_F(HostileTarTest, HardlinksCannotReachOutside) {
  absl::Status status = Unpack({Hardlink("h", "../outside/secret")});
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  status = Unpack({Symlink("s", outside_), Hardlink("h2", "s/secret")});
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  status = Unpack({Hardlink("h3", outside_ + "/secret")});
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  ExpectOutsideUntouched();
}

TEST_F(HostileTarTest, HardlinkToASymlinkLinksTheSymlinkItself) {
  ASSERT_TRUE(Unpack({Symlink("s", outside_ + "/secret"), Hardlink("h", "s")}).ok());
  struct stat st;
  ASSERT_EQ(::lstat((root_ + "/h").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  ExpectOutsideUntouched();
}

TEST_F(HostileTarTest, WhiteoutTricksStayInside) {
  EXPECT_EQ(Unpack({File(".wh..")}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Unpack({File("a/.wh...")}).code(), absl::StatusCode::kInvalidArgument);
  // A whiteout through a symlink to the outside deletes nothing outside.
  ASSERT_TRUE(MakeDirs(root_ + outside_).ok());
  ASSERT_TRUE(Unpack({Symlink("evil", outside_), File("evil/.wh.secret")}).ok());
  ExpectOutsideUntouched();
  struct stat st;
  ASSERT_EQ(::lstat((root_ + outside_ + "/secret").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode)) << "the whiteout lands inside the root";
  ASSERT_TRUE(Unpack({Symlink("evil2", outside_), File("evil2/.wh..wh..opq")}).ok());
  ExpectOutsideUntouched();
}

TEST_F(HostileTarTest, OverlayXattrsFromTheArchiveAreDropped) {
  TarHeader dir;
  dir.path = "d";
  dir.mode = S_IFDIR | 0755;
  dir.xattrs = {{"trusted.overlay.redirect", "/etc"}, {"trusted.overlay.opaque", "y"}};
  ASSERT_TRUE(Unpack({dir}).ok());
  char value[16];
  EXPECT_LT(::lgetxattr((root_ + "/d").c_str(), "trusted.overlay.redirect", value, 16), 0);
  EXPECT_LT(::lgetxattr((root_ + "/d").c_str(), "trusted.overlay.opaque", value, 16), 0);
}

}  // namespace
}  // namespace strata::layer
