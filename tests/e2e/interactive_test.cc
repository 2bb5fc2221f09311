// `strata run -it` driven through a pseudo-terminal, as a user at a terminal would: raw
// keystrokes, a prompt, a resize, Ctrl-C, and the shell's exit code as strata's.

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/e2e/stack.h"
#include "tests/e2e/terminal.h"

namespace strata::e2e {
namespace {

TEST(InteractiveTest, ShellThroughAPseudoTerminal) {
  auto stack = Stack::Start();
  ASSERT_TRUE(stack.ok()) << stack.status();
  auto tarball = (*stack)->BusyboxTarball("none");
  ASSERT_TRUE(tarball.ok());
  ASSERT_EQ((*stack)->Strata({"import", *tarball, "base"}).exit_code, 0);

  Terminal terminal({(*stack)->StrataBinary(), "run", "-it", "--name", "shell", "base", "sh"},
                    (*stack)->Env());
  ASSERT_TRUE(terminal.WaitFor("# ")) << terminal.screen();
  terminal.Type("echo $((6*7))\r");
  EXPECT_TRUE(terminal.WaitFor("42")) << terminal.screen();
  terminal.Type("stty size\r");
  EXPECT_TRUE(terminal.WaitFor("30 100")) << terminal.screen();
  terminal.Resize(40, 120);
  absl::SleepFor(absl::Milliseconds(500));
  terminal.Type("stty size\r");
  EXPECT_TRUE(terminal.WaitFor("40 120")) << terminal.screen();
  // Ctrl-C interrupts the foreground command inside the container, not strata.
  terminal.Type("sleep 100\r");
  absl::SleepFor(absl::Milliseconds(500));
  terminal.Type("\x03");
  terminal.Type("echo still-here\r");
  EXPECT_TRUE(terminal.WaitFor("still-here\r\n")) << terminal.screen();
  terminal.Type("exit 3\r");
  EXPECT_EQ(terminal.Wait(), 3) << terminal.screen();
  // The container's writable layer kept nothing of it but the shell's history, if any.
  EXPECT_EQ((*stack)->Strata({"ps", "-a"}).exit_code, 0);
}

}  // namespace
}  // namespace strata::e2e
