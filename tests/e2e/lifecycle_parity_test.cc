// restart, rename, top, logs --tail / -t / --since / -f, and run --rm removing the container
// on every exit path (the runtime does it when the process exits, not the client).

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <regex>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/e2e/stack.h"

namespace strata::e2e {
namespace {

class LifecycleParityTest : public BaseImageSuite {
 protected:
  bool Exists(const std::string& container) {
    return stack_->Strata({"inspect", "--type", "container", container}).exit_code == 0;
  }
  // Waits up to 15 s for the container to be gone.
  bool GoneSoon(const std::string& container) {
    const absl::Time deadline = absl::Now() + absl::Seconds(15);
    while (absl::Now() < deadline) {
      if (!Exists(container)) return true;
      absl::SleepFor(absl::Milliseconds(300));
    }
    return false;
  }
};

TEST_F(LifecycleParityTest, RestartRenameTop) {
  ASSERT_EQ(stack_
                ->Strata({"run", "-d", "--name", "svc", "base", "sh", "-c",
                          "echo started; exec sleep 60"})
                .exit_code,
            0);
  CommandResult restart = stack_->Strata({"restart", "-t", "1", "svc"});
  ASSERT_EQ(restart.exit_code, 0) << restart.error_output;
  EXPECT_EQ(restart.output, "svc\n");
  absl::SleepFor(absl::Milliseconds(500));
  EXPECT_EQ(stack_->Strata({"logs", "svc"}).output, "started\nstarted\n");

  ASSERT_EQ(stack_->Strata({"rename", "svc", "svc2"}).exit_code, 0);
  EXPECT_FALSE(Exists("svc"));
  EXPECT_TRUE(Exists("svc2"));
  ASSERT_EQ(stack_->Strata({"create", "--name", "other", "base", "true"}).exit_code, 0);
  CommandResult taken = stack_->Strata({"rename", "svc2", "other"});
  EXPECT_NE(taken.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(taken.error_output,
                                "Conflict. The container name \"/other\" is already in use"))
      << taken.error_output;
  CommandResult same = stack_->Strata({"rename", "svc2", "svc2"});
  EXPECT_TRUE(absl::StrContains(same.error_output, "same name as its current name"))
      << same.error_output;

  CommandResult top = stack_->Strata({"top", "svc2"});
  ASSERT_EQ(top.exit_code, 0) << top.error_output;
  std::vector<std::string> lines = absl::StrSplit(top.output, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u) << top.output;
  EXPECT_TRUE(std::regex_match(lines[0], std::regex("UID +PID +PPID +C +STIME +TTY +TIME +CMD")))
      << lines[0];
  EXPECT_TRUE(absl::EndsWith(lines[1], "sleep 60")) << lines[1];
  CommandResult custom = stack_->Strata({"top", "svc2", "-o", "pid,comm"});
  EXPECT_TRUE(absl::StrContains(custom.output, "COMMAND")) << custom.output;
  EXPECT_TRUE(absl::StrContains(custom.output, "sleep")) << custom.output;
  stack_->Strata({"rm", "-f", "svc2"});
  CommandResult stopped = stack_->Strata({"top", "other"});
  EXPECT_TRUE(absl::StrContains(stopped.error_output, "is not running")) << stopped.error_output;
}

TEST_F(LifecycleParityTest, LogsTailTimestampsSinceFollow) {
  ASSERT_EQ(stack_
                ->Strata({"run", "--name", "chatty", "base", "sh", "-c",
                          "for i in 1 2 3 4 5; do echo line$i; done; echo err >&2"})
                .exit_code,
            0);
  CommandResult tail = stack_->Strata({"logs", "--tail", "2", "chatty"});
  EXPECT_EQ(tail.output, "line5\n");
  EXPECT_EQ(tail.error_output, "err\n");
  EXPECT_EQ(stack_->Strata({"logs", "-n", "3", "chatty"}).output, "line4\nline5\n");
  EXPECT_EQ(stack_->Strata({"logs", "--tail", "0", "chatty"}).output, "");
  CommandResult stamped = stack_->Strata({"logs", "-t", "chatty"});
  std::vector<std::string> lines = absl::StrSplit(stamped.output, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 5u) << stamped.output;
  for (const std::string& line : lines) {
    EXPECT_TRUE(std::regex_match(
        line, std::regex("20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{9}Z "
                         "line[1-5]")))
        << line;
  }
  EXPECT_EQ(stack_->Strata({"logs", "--since", "1h", "chatty"}).output,
            "line1\nline2\nline3\nline4\nline5\n");
  EXPECT_EQ(stack_->Strata({"logs", "--since", "2099-01-01T00:00:00Z", "chatty"}).output, "");

  ASSERT_EQ(stack_
                ->Strata({"run", "-d", "--name", "slow", "base", "sh", "-c",
                          "echo a; echo b; sleep 2; echo c"})
                .exit_code,
            0);
  absl::SleepFor(absl::Milliseconds(800));
  CommandResult follow = stack_->Strata({"logs", "-f", "--tail", "1", "slow"});
  EXPECT_EQ(follow.output, "b\nc\n") << follow.error_output;
}

TEST_F(LifecycleParityTest, RunRmRemovesOnEveryExitPath) {
  // Attached, exiting normally: gone when strata returns, with the exit code.
  CommandResult fg =
      stack_->Strata({"run", "--rm", "--name", "rm-fg", "base", "sh", "-c", "exit 3"});
  EXPECT_EQ(fg.exit_code, 3);
  EXPECT_TRUE(GoneSoon("rm-fg"));
  // Detached: the runtime removes it when it exits (4 s: still there when strata inspects it on
  // a loaded machine).
  CommandResult bg = stack_->Strata({"run", "-d", "--rm", "--name", "rm-bg", "base", "sleep", "4"});
  ASSERT_EQ(bg.exit_code, 0) << bg.error_output;
  EXPECT_TRUE(Exists("rm-bg"));
  EXPECT_TRUE(GoneSoon("rm-bg"));
  // The client killed with SIGKILL: nobody is left to clean up but the runtime.
  std::vector<std::string> env = stack_->Env();
  std::string script = absl::StrCat("'", stack_->StrataBinary(),
                                    "' run --rm --name rm-killed base sleep 6 & sleep 3; "
                                    "kill -9 $!; wait");
  absl::StatusOr<CommandResult> killed = RunCommand({"/bin/sh", "-c", script}, {.env = env});
  ASSERT_TRUE(killed.ok());
  EXPECT_TRUE(Exists("rm-killed"));
  EXPECT_TRUE(GoneSoon("rm-killed"));
  // Stopped from elsewhere (a signal to the container) while attached.
  std::string stop_script = absl::StrCat("'", stack_->StrataBinary(),
                                         "' run --rm --name rm-stopped base sleep 30 & sleep 3; '",
                                         stack_->StrataBinary(), "' stop -t 1 rm-stopped; wait");
  ASSERT_TRUE(RunCommand({"/bin/sh", "-c", stop_script}, {.env = env}).ok());
  EXPECT_TRUE(GoneSoon("rm-stopped"));
}

}  // namespace
}  // namespace strata::e2e
