#include "lib/testing/postgres.h"

#include <dirent.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "lib/base/errors.h"
#include "lib/base/fs.h"
#include "lib/testing/subprocess.h"

namespace strata::testing {
namespace {

// The newest /usr/lib/postgresql/<version>/bin.
absl::StatusOr<std::string> FindBinDir() {
  DIR* dir = ::opendir("/usr/lib/postgresql");
  int best = -1;
  if (dir != nullptr) {
    while (struct dirent* entry = ::readdir(dir)) {
      int version = 0;
      if (absl::SimpleAtoi(entry->d_name, &version) && version > best &&
          PathExists(absl::StrCat("/usr/lib/postgresql/", version, "/bin/initdb"))) {
        best = version;
      }
    }
    ::closedir(dir);
  }
  if (best < 0) {
    return absl::FailedPreconditionError(
        "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): apt-get install "
        "postgresql");
  }
  return absl::StrCat("/usr/lib/postgresql/", best, "/bin");
}

}  // namespace

absl::StatusOr<std::unique_ptr<PostgresServer>> PostgresServer::Start() {
  std::unique_ptr<PostgresServer> server(new PostgresServer());
  ASSIGN_OR_RETURN(server->bin_dir_, FindBinDir());
  // Unix socket paths are limited to 107 bytes: keep the directory short, under /tmp.
  std::string pattern = "/tmp/strata-pg.XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) return ErrnoStatus(errno, "mkdtemp");
  server->dir_ = pattern;
  if (::geteuid() == 0) {
    struct passwd* pw = ::getpwnam("postgres");
    if (pw == nullptr) {
      return absl::FailedPreconditionError(
          "running as root and there is no \"postgres\" user to run PostgreSQL as");
    }
    server->uid_ = pw->pw_uid;
    server->gid_ = pw->pw_gid;
    if (::chown(server->dir_.c_str(), server->uid_, server->gid_) != 0) {
      return ErrnoStatus(errno, "chown " + server->dir_);
    }
  }
  RETURN_IF_ERROR(RunOk({server->bin_dir_ + "/initdb", "-D", server->dir_ + "/data", "-U",
                         "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"},
                        server->uid_, server->gid_));
  RETURN_IF_ERROR(server->StartServer());
  return server;
}

absl::Status PostgresServer::StartServer() {
  const std::string options = absl::StrCat(
      "-k ", dir_, " -c listen_addresses= -c fsync=off -c synchronous_commit=off",
      " -c full_page_writes=off -c max_connections=200");
  RETURN_IF_ERROR(RunOk({bin_dir_ + "/pg_ctl", "-D", dir_ + "/data", "-l", dir_ + "/log", "-o",
                         options, "-w", "-t", "60", "start"},
                        uid_, gid_));
  running_ = true;
  return absl::OkStatus();
}

absl::Status PostgresServer::Stop() {
  if (!running_) return absl::OkStatus();
  running_ = false;
  return RunOk({bin_dir_ + "/pg_ctl", "-D", dir_ + "/data", "-m", "fast", "-w", "stop"}, uid_,
               gid_);
}

absl::Status PostgresServer::Restart() {
  RETURN_IF_ERROR(Stop());
  return StartServer();
}

absl::Status PostgresServer::CreateDatabase(const std::string& name) {
  return RunOk({bin_dir_ + "/createdb", "-h", dir_, "-U", "postgres", name}, uid_, gid_);
}

std::string PostgresServer::connection_string() const { return connection_string("postgres"); }

std::string PostgresServer::connection_string(const std::string& dbname) const {
  return absl::StrCat("host=", dir_, " user=postgres dbname=", dbname);
}

PostgresServer::~PostgresServer() {
  if (running_) {
    (void)RunOk({bin_dir_ + "/pg_ctl", "-D", dir_ + "/data", "-m", "immediate", "-w", "stop"},
                uid_, gid_);
  }
  if (!dir_.empty()) (void)RemoveAll(dir_);
}

PostgresServer* PostgresTest::postgres_ = nullptr;

void PostgresTest::SetUpTestSuite() {
  auto server = PostgresServer::Start();
  ASSERT_TRUE(server.ok()) << server.status();
  postgres_ = server->release();
}

void PostgresTest::TearDownTestSuite() {
  delete postgres_;
  postgres_ = nullptr;
}

std::string PostgresTest::NewDatabase(const std::string& prefix) {
  static int counter = 0;
  const std::string name = absl::StrCat(prefix, ++counter);
  EXPECT_NE(postgres_, nullptr);
  if (postgres_ != nullptr) {
    absl::Status created = postgres_->CreateDatabase(name);
    EXPECT_TRUE(created.ok()) << created;
  }
  return name;
}

}  // namespace strata::testing
