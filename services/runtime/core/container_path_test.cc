// ResolveInContainer against hostile trees: every answer must stay inside the root, as a
// process chrooted there would see it.

#include "services/runtime/core/container_path.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gtest/gtest.h"
#include "lib/base/fs.h"
#include "lib/testing/temp_dir.h"

namespace strata::runtime {
namespace {

class ContainerPathTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_.Join("root");
    ASSERT_EQ(::mkdir(root_.c_str(), 0755), 0);
    // Something outside the root that no answer may reach.
    ASSERT_EQ(::mkdir(dir_.Join("outside").c_str(), 0755), 0);
    Make("etc");
    Make("usr/lib");
    Make("data");
    ASSERT_TRUE(WriteFileAtomically(root_ + "/etc/passwd", "root\n").ok());
    Link("/", "etc/root-link");         // /etc/root-link -> /
    Link("../../../../outside", "up");  // climbs far above the root
    Link("/usr/lib", "lib");            // an ordinary absolute link
    Link("lib/../etc", "rel");          // via a link, then ..
    Link("loop2", "loop1");
    Link("loop1", "loop2");
    Link("missing-target", "dangling");
    Link(dir_.Join("outside"), "abs-outside");
    fd_.Reset(::open(root_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(fd_.valid());
  }
  void Make(const std::string& path) { ASSERT_TRUE(MakeDirs(root_ + "/" + path).ok()); }
  void Link(const std::string& target, const std::string& name) {
    ASSERT_EQ(::symlink(target.c_str(), (root_ + "/" + name).c_str()), 0);
  }
  ResolvedPath Resolve(const std::string& path, bool follow = true) {
    absl::StatusOr<ResolvedPath> resolved = ResolveInContainer(fd_.get(), path, follow);
    EXPECT_TRUE(resolved.ok()) << path << ": " << resolved.status();
    return resolved.ok() ? *resolved : ResolvedPath{};
  }

  strata::testing::TempDir dir_{"container-path"};
  std::string root_;
  UniqueFd fd_;
};

TEST_F(ContainerPathTest, PlainPaths) {
  EXPECT_EQ(Resolve("/etc/passwd").path, "etc/passwd");
  EXPECT_TRUE(Resolve("/etc/passwd").exists);
  EXPECT_FALSE(Resolve("/etc/passwd").is_dir);
  EXPECT_EQ(Resolve("usr//lib/.").path, "usr/lib");
  EXPECT_TRUE(Resolve("/usr/lib").is_dir);
  EXPECT_EQ(Resolve("/").path, "");
  EXPECT_TRUE(Resolve("/").is_dir);
  ResolvedPath missing = Resolve("/etc/new-file");
  EXPECT_EQ(missing.path, "etc/new-file");
  EXPECT_FALSE(missing.exists);
}

TEST_F(ContainerPathTest, DotDotStopsAtTheRoot) {
  EXPECT_EQ(Resolve("/../../../etc").path, "etc");
  EXPECT_EQ(Resolve("../../..").path, "");
  EXPECT_EQ(Resolve("/usr/lib/../../../../etc/passwd").path, "etc/passwd");
}

TEST_F(ContainerPathTest, HostileLinksStayInside) {
  // /etc/root-link -> / : the container's root, not the host's.
  EXPECT_EQ(Resolve("/etc/root-link").path, "");
  EXPECT_EQ(Resolve("/etc/root-link/etc/passwd").path, "etc/passwd");
  EXPECT_EQ(Resolve("/etc/root-link/../../etc").path, "etc");
  // up -> ../../../../outside: ".." stops at the root, so it is /outside inside it.
  ResolvedPath up = Resolve("/up");
  EXPECT_EQ(up.path, "outside");
  EXPECT_FALSE(up.exists);
  // An absolute target naming a host directory is a path inside the container.
  // (its first component does not exist inside the root).
  absl::StatusOr<ResolvedPath> abs = ResolveInContainer(fd_.get(), "/abs-outside/x", true);
  EXPECT_EQ(abs.status().code(), absl::StatusCode::kNotFound) << abs.status();
}

TEST_F(ContainerPathTest, LinksResolveLikeTheKernel) {
  // lib -> /usr/lib, then "..": /usr, not the root (the link is followed first).
  EXPECT_EQ(Resolve("/lib/..").path, "usr");
  EXPECT_EQ(Resolve("/rel").path, "usr/etc");
  EXPECT_FALSE(Resolve("/rel").exists);
}

TEST_F(ContainerPathTest, FinalLinkFollowedOnlyWhenAsked) {
  ResolvedPath link = Resolve("/lib", /*follow=*/false);
  EXPECT_EQ(link.path, "lib");
  EXPECT_TRUE(link.is_symlink);
  EXPECT_EQ(Resolve("/lib", true).path, "usr/lib");
  ResolvedPath dangling = Resolve("/dangling", true);
  EXPECT_EQ(dangling.path, "missing-target");
  EXPECT_FALSE(dangling.exists);
}

TEST_F(ContainerPathTest, ErrorsNameTheProblem) {
  absl::StatusOr<ResolvedPath> loop = ResolveInContainer(fd_.get(), "/loop1", true);
  EXPECT_EQ(loop.status().code(), absl::StatusCode::kInvalidArgument);
  absl::StatusOr<ResolvedPath> file_as_dir = ResolveInContainer(fd_.get(), "/etc/passwd/x", true);
  EXPECT_EQ(file_as_dir.status().code(), absl::StatusCode::kFailedPrecondition);
  absl::StatusOr<ResolvedPath> missing_dir = ResolveInContainer(fd_.get(), "/nope/x", true);
  EXPECT_EQ(missing_dir.status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace strata::runtime
