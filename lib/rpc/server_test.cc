// ServiceHost's listening rules: unix sockets that only root and the socket group can open,
// and plaintext TCP refused unless asked for.

#include "lib/rpc/server.h"

#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "gtest/gtest.h"
#include "lib/rpc/client.h"
#include "lib/rpc/health.h"
#include "lib/testing/temp_dir.h"

namespace strata::rpc {
namespace {

// Whether a process running as `uid` (and no group of the socket's) can connect to path.
// Runs in a child, so this process keeps its credentials.
bool CanConnectAs(const std::string& path, uid_t uid, gid_t gid) {
  const pid_t child = ::fork();
  if (child == 0) {
    ::setgroups(0, nullptr);
    if (::setgid(gid) != 0 || ::setuid(uid) != 0) ::_exit(2);
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un address {};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
    const int rc = ::connect(fd, reinterpret_cast<struct sockaddr*>(&address), sizeof(address));
    ::_exit(rc == 0 ? 0 : (errno == EACCES ? 1 : 3));
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_NE(WEXITSTATUS(status), 2) << "could not drop privileges";
  EXPECT_NE(WEXITSTATUS(status), 3) << "connect failed for another reason than permission";
  return WEXITSTATUS(status) == 0;
}

TEST(ServiceHostTest, RefusesPlaintextTcpUnlessAskedFor) {
  auto refused = ServiceHost::Start({.listen = "127.0.0.1:0"}, {});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("--insecure"), std::string::npos) << refused.status();

  auto allowed = ServiceHost::Start({.listen = "127.0.0.1:0", .insecure = true}, {});
  ASSERT_TRUE(allowed.ok()) << allowed.status();
  EXPECT_GT((*allowed)->port(), 0);
}

TEST(ServiceHostTest, UnixSocketIsForRootAndItsGroupOnly) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to check other users' access";
  // sun_path holds 107 bytes: a short directory under /tmp.
  const std::string dir = "/tmp/strata-rpc-test-" + std::to_string(::getpid());
  const std::string path = dir + "/deep/service.sock";
  // "nogroup" stands for the socket group: a group a test user can be put in.
  struct group* nogroup = ::getgrnam("nogroup");
  ASSERT_NE(nogroup, nullptr);
  const gid_t socket_gid = nogroup->gr_gid;

  auto host = ServiceHost::Start({.listen = "unix:" + path, .socket_group = "nogroup"}, {});
  ASSERT_TRUE(host.ok()) << host.status();
  EXPECT_EQ((*host)->address(), "unix:" + path);

  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0660u);
  EXPECT_EQ(st.st_uid, 0u);
  EXPECT_EQ(st.st_gid, socket_gid);
  ASSERT_EQ(::stat((dir + "/deep").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0750u);
  EXPECT_EQ(st.st_gid, socket_gid);

  auto channel = Dial({.address = "unix:" + path});
  ASSERT_TRUE(channel.ok());
  auto health = CheckHealth(*channel, "");
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(*health, "SERVING");

  // Any other user is refused by the file system before gRPC sees a byte; a member of the
  // socket group gets in. (The outer directories must let both through: /tmp does.)
  ASSERT_EQ(::chmod(dir.c_str(), 0755), 0);
  EXPECT_FALSE(CanConnectAs(path, 65534, 65534 == socket_gid ? 65533 : 65534));
  EXPECT_TRUE(CanConnectAs(path, 65534, socket_gid));

  (*host)->Shutdown();
  ::unlink(path.c_str());
  ::rmdir((dir + "/deep").c_str());
  ::rmdir(dir.c_str());
}

TEST(ServiceHostTest, RefusesATokenWithoutTls) {
  strata::testing::TempDir dir("rpc");
  auto host = ServiceHost::Start(
      {.listen = "127.0.0.1:0", .insecure = true, .auth_token_file = dir.Join("token")}, {});
  ASSERT_FALSE(host.ok());
  EXPECT_EQ(host.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace strata::rpc
