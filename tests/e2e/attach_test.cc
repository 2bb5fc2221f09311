// attach, start -a -i, the detach sequence (ctrl-p ctrl-q, or --detach-keys) for run -it and
// attach, and run -dit without a terminal on the client: the container keeps its terminal
// (the monitor's) and is attached to later.

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/e2e/stack.h"
#include "tests/e2e/terminal.h"

namespace strata::e2e {
namespace {

class AttachTest : public BaseImageSuite {
 protected:
  std::string State(const std::string& container) {
    CommandResult ps = stack_->Strata({"ps", "-a", "--no-trunc"});
    for (absl::string_view line : absl::StrSplit(ps.output, '\n')) {
      if (absl::EndsWith(line, " " + container)) {
        if (absl::StrContains(line, " Up ")) return "running";
        if (absl::StrContains(line, "Exited")) return "exited";
        return "other";
      }
    }
    return "gone";
  }
  Terminal Attach(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {stack_->StrataBinary()};
    argv.insert(argv.end(), args.begin(), args.end());
    return Terminal(argv, stack_->Env());
  }
};

TEST_F(AttachTest, DetachedTerminalWithoutAClientTerminalThenAttachAndDetach) {
  // No terminal here (stdin is /dev/null): the container gets its own from the monitor.
  CommandResult run = stack_->Strata({"run", "-dit", "--name", "bg", "base", "sh"});
  ASSERT_EQ(run.exit_code, 0) << run.error_output;
  EXPECT_EQ(run.output.size(), 65u) << run.output;
  CommandResult dt = stack_->Strata(
      {"run", "-d", "-t", "--name", "dt", "base", "sh", "-c", "[ -t 1 ] && echo has-a-tty"});
  ASSERT_EQ(dt.exit_code, 0) << dt.error_output;

  {
    Terminal terminal = Attach({"attach", "bg"});
    absl::SleepFor(absl::Milliseconds(300));
    terminal.Type("echo $((6*7))\r");
    ASSERT_TRUE(terminal.WaitFor("42")) << terminal.screen();
    terminal.Type("\x10\x11");  // ctrl-p ctrl-q
    EXPECT_EQ(terminal.Wait(), 0) << terminal.screen();
    EXPECT_TRUE(absl::StrContains(terminal.screen(), "read escape sequence")) << terminal.screen();
  }
  EXPECT_EQ(State("bg"), "running");
  {
    // Other keys, in docker's syntax.
    Terminal terminal = Attach({"attach", "--detach-keys", "ctrl-x,y", "bg"});
    absl::SleepFor(absl::Milliseconds(300));
    terminal.Type("echo still\r");
    ASSERT_TRUE(terminal.WaitFor("still")) << terminal.screen();
    terminal.Type("\x18y");
    EXPECT_EQ(terminal.Wait(), 0) << terminal.screen();
  }
  EXPECT_EQ(State("bg"), "running");
  {
    Terminal terminal = Attach({"attach", "bg"});
    absl::SleepFor(absl::Milliseconds(300));
    terminal.Type("exit 7\r");
    EXPECT_EQ(terminal.Wait(), 7) << terminal.screen();
  }
  EXPECT_EQ(State("bg"), "exited");
  CommandResult logs = stack_->Strata({"logs", "dt"});
  EXPECT_TRUE(absl::StrContains(logs.output, "has-a-tty")) << logs.output;

  CommandResult stopped = stack_->Strata({"attach", "bg"});
  EXPECT_NE(stopped.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(stopped.error_output,
                                "You cannot attach to a stopped container, start it first"))
      << stopped.error_output;
  CommandResult bad_keys =
      stack_->Strata({"run", "-it", "--detach-keys", "ctrl-1", "base", "true"});
  EXPECT_EQ(bad_keys.exit_code, 125);
}

TEST_F(AttachTest, RunItDetachesAndStartAttachInteractive) {
  {
    Terminal terminal = Attach({"run", "-it", "--name", "fg", "base", "sh"});
    ASSERT_TRUE(terminal.WaitFor("# ")) << terminal.screen();
    terminal.Type("\x10\x11");
    EXPECT_EQ(terminal.Wait(), 0) << terminal.screen();
    EXPECT_TRUE(absl::StrContains(terminal.screen(), "read escape sequence"));
  }
  EXPECT_EQ(State("fg"), "running");
  ASSERT_EQ(stack_->Strata({"kill", "fg"}).exit_code, 0);

  ASSERT_EQ(stack_->Strata({"create", "-it", "--name", "later", "base", "sh"}).exit_code, 0);
  {
    Terminal terminal = Attach({"start", "-a", "-i", "later"});
    ASSERT_TRUE(terminal.WaitFor("# ")) << terminal.screen();
    terminal.Type("echo hi-$((1+1))\r");
    ASSERT_TRUE(terminal.WaitFor("hi-2")) << terminal.screen();
    terminal.Type("exit 2\r");
    EXPECT_EQ(terminal.Wait(), 2) << terminal.screen();
  }
}

}  // namespace
}  // namespace strata::e2e
