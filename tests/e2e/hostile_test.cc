// Hostile input from inside a container and from imported archives: refused with a clear
// message, and the services keep serving (issue 18).

#include <dirent.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "lib/base/fs.h"
#include "lib/base/subprocess.h"
#include "tests/e2e/stack.h"

namespace strata::e2e {
namespace {

class HostileTest : public BaseImageSuite {
 protected:
  // The runtime (and the rest) still serve: a new container runs.
  void ExpectStackServes() {
    CommandResult alive = stack_->Strata({"run", "--rm", "base", "echo", "alive"});
    EXPECT_EQ(alive.exit_code, 0) << alive.error_output;
    EXPECT_EQ(alive.output, "alive\n") << alive.error_output;
  }

  // Uploads the layerstore holds (its directory store keeps one directory per upload).
  std::vector<std::string> Uploads() {
    std::vector<std::string> names;
    const std::string ingest = stack_->dir() + "/layerstore/ingest";
    DIR* dir = ::opendir(ingest.c_str());
    if (dir == nullptr) return {"cannot list " + ingest};
    while (struct dirent* entry = ::readdir(dir)) {
      const std::string name = entry->d_name;
      if (name != "." && name != "..") names.push_back(name);
    }
    ::closedir(dir);
    return names;
  }
};

TEST_F(HostileTest, DeepTreeInAContainerIsRefusedAndTheRuntimeSurvives) {
  // About 10,000 levels, made from inside the container. (busybox's `cd` names the whole
  // path, so `mkdir d && cd d` stops at PATH_MAX: chains of 1,000 are renamed into each other.)
  CommandResult made =
      stack_->Strata({"run", "--name", "deep", "base", "sh", "-c",
                      "set -e; p=d; i=1; while [ $i -lt 1000 ]; do p=$p/d; i=$((i+1)); done; "
                      "mkdir -p /w/t/$p; r=0; while [ $r -lt 9 ]; do "
                      "mkdir -p /w/n/$p; mv /w/t /w/n/$p/t; mv /w/n /w/t; r=$((r+1)); done"});
  ASSERT_EQ(made.exit_code, 0) << made.error_output;

  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"diff", "deep"},
           {"commit", "deep", "deep:1"},
           {"export", "-o", stack_->dir() + "/deep.tar", "deep"}}) {
    CommandResult result = stack_->Strata(args);
    EXPECT_NE(result.exit_code, 0) << args[0] << ": " << result.output;
    EXPECT_TRUE(absl::StrContains(result.error_output, "/d/d/d")) << result.error_output;
    EXPECT_TRUE(absl::StrContains(result.error_output, "path too long") ||
                absl::StrContains(result.error_output, "too deep"))
        << result.error_output;
    EXPECT_LT(result.error_output.size(), 2048u) << args[0];
    ExpectStackServes();
  }
  // The container, deep tree and all, can be removed. (On a slow disk, removing 10,000
  // directories can outlast the CLI's deadline; the runtime finishes it regardless.)
  bool removed = false;
  std::string last_error;
  for (int attempt = 0; attempt < 20 && !removed; ++attempt) {
    CommandResult rm = stack_->Strata({"rm", "deep"});
    removed = rm.exit_code == 0 || absl::StrContains(rm.error_output, "No such container");
    last_error = rm.error_output;
  }
  EXPECT_TRUE(removed) << last_error;
  ExpectStackServes();
}

TEST_F(HostileTest, PathLongerThanPathMaxIsRefusedAtImport) {
  const std::string tar = stack_->dir() + "/long-path.tar";
  ASSERT_TRUE(RunCommandOk({"/usr/bin/python3", "-c",
                            "import io, sys, tarfile\n"
                            "name = '/'.join(['x' * 200] * 25) + '/end'\n"
                            "with tarfile.open(sys.argv[1], 'w', format=tarfile.PAX_FORMAT) as t:\n"
                            "    info = tarfile.TarInfo(name)\n"
                            "    info.size = 2\n"
                            "    t.addfile(info, io.BytesIO(b'hi'))\n",
                            tar})
                  .ok());
  CommandResult result = stack_->Strata({"import", tar, "long:1"});
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_TRUE(absl::StrContains(result.error_output, "path too long")) << result.error_output;
  EXPECT_TRUE(absl::StrContains(result.error_output, "/end")) << result.error_output;
  EXPECT_LT(result.error_output.size(), 2048u);
  EXPECT_NE(stack_->Strata({"inspect", "long:1"}).exit_code, 0);
  EXPECT_TRUE(Uploads().empty());
}

TEST_F(HostileTest, FailedImportsLeaveNoUpload) {
  auto tarball = stack_->BusyboxTarball("none");
  ASSERT_TRUE(tarball.ok());
  auto bytes = ReadFile(*tarball);
  ASSERT_TRUE(bytes.ok());
  const std::string dir = stack_->dir();
  ASSERT_TRUE(WriteFileAtomically(dir + "/truncated.tar", bytes->substr(0, 5000)).ok());
  ASSERT_TRUE(WriteFileAtomically(dir + "/hello", "hello\n").ok());
  ASSERT_TRUE(RunCommandOk({"/usr/bin/python3", "-c",
                            "import sys, zipfile\n"
                            "with zipfile.ZipFile(sys.argv[1], 'w') as z:\n"
                            "    z.writestr('hello', 'hello')\n",
                            dir + "/hello.zip"})
                  .ok());
  // cpio (newc) and rar by their magic numbers and a little more: libarchive knows them.
  ASSERT_TRUE(WriteFileAtomically(dir + "/hello.cpio", "070701" + std::string(104, '0') +
                                                           "TRAILER!!!" + std::string(500, '\0'))
                  .ok());
  ASSERT_TRUE(
      WriteFileAtomically(dir + "/hello.rar", std::string("Rar!\x1a\x07\x00", 7) + "garbage").ok());
  ASSERT_TRUE(Uploads().empty());
  for (int round = 0; round < 3; ++round) {
    for (const char* name : {"truncated.tar", "hello.zip", "hello.cpio", "hello.rar"}) {
      CommandResult result = stack_->Strata({"import", absl::StrCat(dir, "/", name), "bad:1"});
      EXPECT_EQ(result.exit_code, 1) << name;
      const std::vector<std::string> left = Uploads();
      EXPECT_TRUE(left.empty()) << name << " left " << left.size() << " upload(s), e.g. "
                                << (left.empty() ? "" : left[0]);
    }
  }
}

}  // namespace
}  // namespace strata::e2e
