#include "lib/base/fs.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "gtest/gtest.h"

namespace strata {
namespace {

std::string MakeTempDir() {
  std::string pattern = std::string(std::getenv("TEST_TMPDIR") ? std::getenv("TEST_TMPDIR")
                                                               : "/tmp") +
                        "/fs_test.XXXXXX";
  return ::mkdtemp(pattern.data());
}

TEST(FsTest, WriteAtomicallyThenRead) {
  const std::string dir = MakeTempDir();
  const std::string path = dir + "/file";
  ASSERT_TRUE(WriteFileAtomically(path, "first").ok());
  ASSERT_TRUE(WriteFileAtomically(path, "second", 0600).ok());
  auto contents = ReadFile(path);
  ASSERT_TRUE(contents.ok());
  EXPECT_EQ(*contents, "second");
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_TRUE(RemoveAll(dir).ok());
  EXPECT_FALSE(PathExists(dir));
}

TEST(FsTest, ReadMissingIsNotFound) {
  auto contents = ReadFile("/nonexistent/strata/file");
  EXPECT_EQ(contents.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(contents.status().message().find("/nonexistent/strata/file"), std::string::npos);
}

TEST(FsTest, MakeDirsAndRemoveAllNested) {
  const std::string dir = MakeTempDir();
  ASSERT_TRUE(MakeDirs(dir + "/a/b/c").ok());
  ASSERT_TRUE(MakeDirs(dir + "/a/b/c").ok());
  ASSERT_TRUE(WriteFileAtomically(dir + "/a/b/c/f", "x").ok());
  ASSERT_EQ(::symlink("/etc", (dir + "/a/link").c_str()), 0);
  ASSERT_TRUE(RemoveAll(dir + "/a").ok());
  EXPECT_FALSE(PathExists(dir + "/a"));
  EXPECT_TRUE(PathExists("/etc/passwd"));  // the symlink was not followed
  EXPECT_TRUE(RemoveAll(dir).ok());
}

TEST(FsTest, DirnameBasename) {
  EXPECT_EQ(Dirname("/a/b"), "/a");
  EXPECT_EQ(Dirname("/a"), "/");
  EXPECT_EQ(Dirname("a"), ".");
  EXPECT_EQ(Basename("/a/b/"), "b");
  EXPECT_EQ(Basename("b"), "b");
}

}  // namespace
}  // namespace strata
