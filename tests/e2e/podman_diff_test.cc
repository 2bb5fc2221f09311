// For the same operations, `strata diff` lists the same paths with the same letters as
// `podman diff` (podman from Debian, with runc). Skipped where podman is not installed.

#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "lib/base/fs.h"
#include "lib/base/subprocess.h"
#include "tests/e2e/stack.h"

namespace strata::e2e {
namespace {

std::set<std::string> LineSet(const std::string& text) {
  std::set<std::string> lines;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    lines.emplace(line);
  }
  return lines;
}

// Every change podman's native overlay diff and ours agree on: add, change, delete,
// delete-then-recreate, rename, chmod, chown, hard link, symlink, new directories, a file in
// a directory that was only copied up, and a directory changed below. (An opaque directory,
// a lower directory removed and created again, is where the two differ on purpose: see
// lib/layer/overlay_diff.h.)
constexpr char kOperations[] =
    "echo new > /added && echo more >> /etc/keep && rm /etc/del && "
    "rm /etc/group && echo again > /etc/group && mv /root /root-moved && chmod 600 /etc/passwd && "
    "chown 1000:1000 /etc/keep && ln /added /hard && ln -s /etc/keep /sym && "
    "mkdir -p /newdir/sub && echo f > /newdir/sub/f && echo x > /tmp/x && rm /tmp/x && "
    "echo deep > /home/app/deep";

TEST(PodmanDiffTest, SameLettersAsPodman) {
  if (!RunCommand({"podman", "--version"}).ok() ||
      RunCommand({"podman", "--version"})->exit_code != 0) {
    GTEST_SKIP() << "podman is not installed";
  }
  auto stack = Stack::Start();
  ASSERT_TRUE(stack.ok()) << stack.status();
  auto tarball = (*stack)->BusyboxTarball("none");
  ASSERT_TRUE(tarball.ok());
  ASSERT_EQ((*stack)->Strata({"import", *tarball, "base"}).exit_code, 0);
  CommandResult strata_run = (*stack)->Strata({"run", "--name", "ours", "base", "sh", "-c", kOperations});
  ASSERT_EQ(strata_run.exit_code, 0) << strata_run.error_output;
  CommandResult ours = (*stack)->Strata({"diff", "ours"});
  ASSERT_EQ(ours.exit_code, 0);

  const std::string image = absl::StrCat("localhost/strata-diff-test:", absl::ToUnixNanos(absl::Now()));
  const std::string name = absl::StrCat("strata-diff-test-", absl::ToUnixNanos(absl::Now()));
  auto imported = RunCommand({"podman", "import", *tarball, image});
  ASSERT_TRUE(imported.ok() && imported->exit_code == 0) << imported->output;
  auto run = RunCommand({"podman", "run", "--runtime", "runc", "--ulimit", "nofile=1024:1024",
                         "--ulimit", "nproc=1024:1024", "--network", "none", "--name", name,
                         image, "sh", "-c", kOperations});
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->exit_code, 0) << run->output;
  auto theirs = RunCommand({"podman", "diff", name}, {.separate_stderr = true});
  (void)RunCommand({"podman", "rm", "-f", name});
  (void)RunCommand({"podman", "rmi", "-f", image});
  ASSERT_TRUE(theirs.ok());
  ASSERT_EQ(theirs->exit_code, 0) << theirs->error_output;
  std::set<std::string> podman = LineSet(theirs->output);
  // podman's own files for the container (they are not the user's changes).
  for (const char* own : {"A /run", "C /run", "A /run/.containerenv", "C /etc/hosts",
                          "C /etc/resolv.conf", "C /etc/hostname", "A /etc/hostname",
                          "A /etc/hosts", "A /etc/resolv.conf"}) {
    podman.erase(own);
  }
  EXPECT_EQ(absl::StrJoin(LineSet(ours.output), "\n"), absl::StrJoin(podman, "\n"))
      << "podman printed:\n" << theirs->output;
}

}  // namespace
}  // namespace strata::e2e
