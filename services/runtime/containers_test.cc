// The container half of the runtime, against real runc, overlayfs, monitors and layerstore.

#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <set>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "lib/base/fs.h"
#include "lib/testing/subprocess.h"
#include "lib/testing/temp_dir.h"
#include "lib/testing/tree.h"
#include "services/runtime/testing/runtime_fixture.h"

namespace strata::runtime {
namespace {

using strata::testing::MakeDirOrDie;
using strata::testing::WriteFileOrDie;
using testing::Collect;
using testing::ProcessResult;
using testing::RuntimeFixture;

// Reads frames until the text appears in the output (or the process exits).
std::string ReadUntil(ProcessStream* stream, const std::string& wanted) {
  std::string seen;
  while (seen.find(wanted) == std::string::npos) {
    auto frame = stream->Next();
    if (!frame.ok() || !frame->has_value() || (**frame).type == FrameType::kExit) break;
    seen += (**frame).payload;
  }
  return seen;
}

TEST(ContainersTest, RunsACommandWithItsOutputAndExitCode) {
  RuntimeFixture fixture;
  auto result = fixture.Run({fixture.BusyboxLayer()},
                            {"sh", "-c", "echo out; echo err >&2; exit 3"});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->stdout_text, "out\n");
  EXPECT_EQ(result->stderr_text, "err\n");
  EXPECT_EQ(result->exit_code, 3);
}

TEST(ContainersTest, InspectIsAccurateAtEveryStep) {
  RuntimeFixture fixture;
  auto record = fixture.CreateContainer({fixture.BusyboxLayer()}, {"sleep", "1000"}, "sleeper");
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(fixture.runtime().Inspect("sleeper")->state, ContainerState::kCreated);
  ASSERT_TRUE(fixture.runtime().Start("sleeper").ok());
  auto running = fixture.runtime().Inspect(record->id.substr(0, 8));
  ASSERT_TRUE(running.ok());
  EXPECT_EQ(running->state, ContainerState::kRunning);
  EXPECT_GT(running->pid, 0);
  ASSERT_TRUE(fixture.runtime().Pause("sleeper").ok());
  EXPECT_EQ(fixture.runtime().Inspect("sleeper")->state, ContainerState::kPaused);
  ASSERT_TRUE(fixture.runtime().Unpause("sleeper").ok());
  ASSERT_TRUE(fixture.runtime().Kill("sleeper", "KILL").ok());
  auto exit = fixture.runtime().Wait("sleeper", absl::Now() + absl::Seconds(20));
  ASSERT_TRUE(exit.ok()) << exit.status();
  EXPECT_EQ(exit->exit_code, 128 + SIGKILL);
  auto exited = fixture.runtime().Inspect("sleeper");
  EXPECT_EQ(exited->state, ContainerState::kExited);
  EXPECT_EQ(exited->exit_code, 137);
  EXPECT_EQ(exited->pid, 0);
}

TEST(ContainersTest, InteractiveShellThroughATerminal) {
  RuntimeFixture fixture;
  auto record = fixture.CreateContainer({fixture.BusyboxLayer()}, {"sh"}, "shell",
                                        /*tty=*/true, /*stdin=*/true);
  ASSERT_TRUE(record.ok()) << record.status();
  auto started = fixture.runtime().Start("shell", {24, 80});
  ASSERT_TRUE(started.ok()) << started.status();
  auto stream = fixture.runtime().Attach("shell", true, started->log_offset);
  ASSERT_TRUE(stream.ok()) << stream.status();
  ASSERT_TRUE((*stream)->SendStdin("echo $((6*7))\n").ok());
  EXPECT_NE(ReadUntil(stream->get(), "42").find("42"), std::string::npos);
  ASSERT_TRUE((*stream)->SendStdin("stty size\n").ok());
  EXPECT_NE(ReadUntil(stream->get(), "24 80").find("24 80"), std::string::npos);
  ASSERT_TRUE((*stream)->Resize({50, 132}).ok());
  ASSERT_TRUE((*stream)->SendStdin("stty size\n").ok());
  EXPECT_NE(ReadUntil(stream->get(), "50 132").find("50 132"), std::string::npos);
  // Ctrl-C reaches the foreground process through the terminal.
  ASSERT_TRUE((*stream)->SendStdin("sleep 100; echo after-sleep\n").ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  ASSERT_TRUE((*stream)->SendStdin("\x03").ok());
  ASSERT_TRUE((*stream)->SendStdin("echo interrupted\n").ok());
  EXPECT_NE(ReadUntil(stream->get(), "interrupted\r\n").find("interrupted\r\n"),
            std::string::npos);
  ASSERT_TRUE((*stream)->SendStdin("exit 5\n").ok());
  auto rest = Collect(stream->get());
  ASSERT_TRUE(rest.ok()) << rest.status();
  EXPECT_EQ(rest->exit_code, 5);
}

TEST(ContainersTest, StdinThroughPipesAndItsEnd) {
  RuntimeFixture fixture;
  auto record = fixture.CreateContainer({fixture.BusyboxLayer()}, {"sh", "-c", "cat; echo done"},
                                        "cat", false, true);
  ASSERT_TRUE(record.ok());
  auto started = fixture.runtime().Start("cat");
  ASSERT_TRUE(started.ok()) << started.status();
  auto stream = fixture.runtime().Attach("cat", true, started->log_offset);
  ASSERT_TRUE(stream.ok());
  ASSERT_TRUE((*stream)->SendStdin("line one\n").ok());
  ASSERT_TRUE((*stream)->CloseStdin().ok());
  auto result = Collect(stream->get());
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->stdout_text, "line one\ndone\n");
  EXPECT_EQ(result->exit_code, 0);
}

TEST(ContainersTest, ExecRunsAnotherProcess) {
  RuntimeFixture fixture;
  auto record = fixture.CreateContainer({fixture.BusyboxLayer()}, {"sleep", "1000"}, "host");
  ASSERT_TRUE(record.ok());
  ASSERT_TRUE(fixture.runtime().Start("host").ok());
  ExecSpec spec;
  spec.args = {"sh", "-c", "echo exec-out $FOO; id -u; exit 4"};
  spec.env = {"FOO=bar"};
  spec.user = "app";
  auto stream = fixture.runtime().Exec("host", spec);
  ASSERT_TRUE(stream.ok()) << stream.status();
  auto result = Collect(stream->get());
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->stdout_text, "exec-out bar\n1000\n");
  EXPECT_EQ(result->exit_code, 4);

  spec = ExecSpec{};
  spec.args = {"no-such-command"};
  auto missing = fixture.runtime().Exec("host", spec);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(missing.status().message(), "not found")) << missing.status();

  spec = ExecSpec{};
  spec.args = {"tty"};
  spec.tty = true;
  stream = fixture.runtime().Exec("host", spec);
  ASSERT_TRUE(stream.ok()) << stream.status();
  result = Collect(stream->get());
  ASSERT_TRUE(result.ok());
  EXPECT_TRUE(absl::StartsWith(result->stdout_text, "/dev/pts/")) << result->stdout_text;
}

TEST(ContainersTest, StopKillsAProcessThatIgnoresTerm) {
  RuntimeFixture fixture;
  auto record = fixture.CreateContainer({fixture.BusyboxLayer()},
                                        {"sh", "-c", "trap '' TERM; echo ready; sleep 1000"},
                                        "stubborn");
  ASSERT_TRUE(record.ok());
  auto started = fixture.runtime().Start("stubborn");
  ASSERT_TRUE(started.ok());
  auto stream = fixture.runtime().Attach("stubborn", false, started->log_offset);
  ASSERT_TRUE(stream.ok());
  ReadUntil(stream->get(), "ready");
  const absl::Time before = absl::Now();
  auto stopped = fixture.runtime().Stop("stubborn", absl::Seconds(1));
  ASSERT_TRUE(stopped.ok()) << stopped.status();
  EXPECT_GE(absl::Now() - before, absl::Seconds(1));
  EXPECT_EQ(stopped->state, ContainerState::kExited);
  EXPECT_EQ(stopped->exit_code, 137);
  // Stopping again is fine.
  EXPECT_TRUE(fixture.runtime().Stop("stubborn", absl::Seconds(1)).ok());
}

TEST(ContainersTest, LayersWithWhiteoutsGiveTheMergedView) {
  RuntimeFixture fixture;
  strata::testing::TempDir dir("layers");
  MakeDirOrDie(dir.Join("l1/data/sub"));
  MakeDirOrDie(dir.Join("l1/opq"));
  WriteFileOrDie(dir.Join("l1/data/a"), "a");
  WriteFileOrDie(dir.Join("l1/data/b"), "b");
  WriteFileOrDie(dir.Join("l1/data/sub/c"), "c");
  WriteFileOrDie(dir.Join("l1/opq/old"), "old");
  MakeDirOrDie(dir.Join("l2/data"));
  MakeDirOrDie(dir.Join("l2/opq"));
  ASSERT_EQ(::mknod(dir.Join("l2/data/a").c_str(), S_IFCHR, makedev(0, 0)), 0);
  ASSERT_EQ(::mknod(dir.Join("l2/data/sub").c_str(), S_IFCHR, makedev(0, 0)), 0);
  WriteFileOrDie(dir.Join("l2/opq/new"), "new");
  ASSERT_EQ(::setxattr(dir.Join("l2/opq").c_str(), "trusted.overlay.opaque", "y", 1, 0), 0);
  auto l1 = fixture.PushLayer(dir.Join("l1"));
  auto l2 = fixture.PushLayer(dir.Join("l2"));
  ASSERT_TRUE(l1.ok() && l2.ok());
  auto result = fixture.Run({fixture.BusyboxLayer(), *l1, *l2},
                            {"sh", "-c", "ls /data /opq | tr '\\n' ' '"});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->stdout_text, "/data: b  /opq: new ");
}

TEST(ContainersTest, OneHundredThirtyLayersMount) {
  RuntimeFixture fixture;
  strata::testing::TempDir dir("many");
  std::vector<oci::LayerDescriptor> layers = {fixture.BusyboxLayer()};
  for (int i = 0; i < 130; ++i) {
    const std::string layer_dir = dir.Join(absl::StrCat("l", i));
    MakeDirOrDie(layer_dir + "/layers");
    WriteFileOrDie(absl::StrCat(layer_dir, "/layers/", i), "x");
    auto layer = fixture.PushLayer(layer_dir);
    ASSERT_TRUE(layer.ok()) << layer.status();
    layers.push_back(*layer);
  }
  auto result = fixture.Run(layers, {"sh", "-c", "ls /layers | wc -l"});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->stdout_text, "130\n");
  // Past the configured limit: a clear error that names the remedy.
  fixture.RestartRuntime(/*max_layers=*/100);
  auto refused = fixture.CreateContainer(layers, {"true"});
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(refused.status().message(), "131 layers")) << refused.status();
  EXPECT_TRUE(absl::StrContains(refused.status().message(), "squash")) << refused.status();
}

TEST(ContainersTest, ConcurrentCreatesUnpackEachLayerOnce) {
  RuntimeFixture fixture;
  strata::testing::TempDir dir("shared");
  MakeDirOrDie(dir.Join("extra"));
  WriteFileOrDie(dir.Join("extra/file"), std::string(1 << 20, 'x'));
  auto extra = fixture.PushLayer(dir.Join("extra"));
  ASSERT_TRUE(extra.ok());
  const std::vector<oci::LayerDescriptor> layers = {fixture.BusyboxLayer(), *extra};
  std::vector<std::thread> threads;
  std::vector<absl::Status> results(6);
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&, i] {
      results[i] = fixture.CreateContainer(layers, {"true"}, absl::StrCat("c", i)).status();
    });
  }
  for (auto& thread : threads) thread.join();
  for (const absl::Status& status : results) EXPECT_TRUE(status.ok()) << status;
  // One snapshot per layer, nothing half-done left behind.
  auto listing = strata::testing::Run({"ls", "-A", fixture.root() + "/snapshots"});
  ASSERT_TRUE(listing.ok());
  EXPECT_EQ(std::count(listing->output.begin(), listing->output.end(), '\n'), 2)
      << listing->output;
  auto result = fixture.Run(layers, {"sh", "-c", "wc -c < /file"});
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->stdout_text, "1048576\n");
}

TEST(ContainersTest, RestartOfTheServiceKeepsEveryState) {
  RuntimeFixture fixture;
  const std::vector<oci::LayerDescriptor> base = {fixture.BusyboxLayer()};
  ASSERT_TRUE(fixture.CreateContainer(base, {"true"}, "created").ok());
  ASSERT_TRUE(fixture.CreateContainer(base, {"sleep", "1000"}, "running").ok());
  ASSERT_TRUE(fixture.runtime().Start("running").ok());
  ASSERT_TRUE(fixture.CreateContainer(base, {"sleep", "1000"}, "paused").ok());
  ASSERT_TRUE(fixture.runtime().Start("paused").ok());
  ASSERT_TRUE(fixture.runtime().Pause("paused").ok());
  ASSERT_TRUE(fixture.CreateContainer(base, {"sh", "-c", "echo kept > /kept; exit 7"}, "exited")
                  .ok());
  ASSERT_TRUE(fixture.runtime().Start("exited").ok());
  ASSERT_TRUE(fixture.runtime().Wait("exited", absl::Now() + absl::Seconds(30)).ok());
  // One that exits while the service is down.
  ASSERT_TRUE(fixture.CreateContainer(base, {"sleep", "2"}, "exits-meanwhile").ok());
  ASSERT_TRUE(fixture.runtime().Start("exits-meanwhile").ok());

  fixture.RestartRuntime();
  std::this_thread::sleep_for(std::chrono::seconds(3));
  fixture.RestartRuntime();

  Runtime& runtime = fixture.runtime();
  EXPECT_EQ(runtime.Inspect("created")->state, ContainerState::kCreated);
  EXPECT_EQ(runtime.Inspect("running")->state, ContainerState::kRunning);
  EXPECT_EQ(runtime.Inspect("paused")->state, ContainerState::kPaused);
  EXPECT_EQ(runtime.Inspect("exited")->state, ContainerState::kExited);
  EXPECT_EQ(runtime.Inspect("exited")->exit_code, 7);
  auto meanwhile = runtime.Inspect("exits-meanwhile");
  EXPECT_EQ(meanwhile->state, ContainerState::kExited);
  EXPECT_EQ(meanwhile->exit_code, 0);
  EXPECT_EQ(runtime.List(false).size(), 2u);
  EXPECT_EQ(runtime.List(true).size(), 5u);

  // The running one is still supervised: exec works, and so does its stop.
  ExecSpec spec;
  spec.args = {"echo", "alive"};
  auto exec = runtime.Exec("running", spec);
  ASSERT_TRUE(exec.ok()) << exec.status();
  EXPECT_EQ(Collect(exec->get())->stdout_text, "alive\n");
  auto stopped = runtime.Stop("running", absl::Seconds(5));
  ASSERT_TRUE(stopped.ok());
  EXPECT_EQ(stopped->state, ContainerState::kExited);
  // The exited one starts again, with its writable layer intact.
  auto upper = ReadFile(runtime.UpperDir(runtime.Inspect("exited")->id) + "/kept");
  ASSERT_TRUE(upper.ok());
  EXPECT_EQ(*upper, "kept\n");
  auto restarted = runtime.Start("exited");
  ASSERT_TRUE(restarted.ok()) << restarted.status();
  EXPECT_EQ(runtime.Wait("exited", absl::Now() + absl::Seconds(30))->exit_code, 7);
  EXPECT_TRUE(runtime.Remove("paused", /*force=*/true).ok());
}

TEST(ContainersTest, BadInputIsAClearErrorAndChangesNothing) {
  RuntimeFixture fixture;
  Runtime& runtime = fixture.runtime();
  oci::LayerDescriptor missing = fixture.BusyboxLayer();
  missing.digest = Digest::Of("not stored");
  auto unknown_layer = fixture.CreateContainer({missing}, {"true"}, "first");
  EXPECT_EQ(unknown_layer.status().code(), absl::StatusCode::kNotFound) << unknown_layer.status();
  EXPECT_TRUE(runtime.List(true).empty());
  // The name is still free.
  ASSERT_TRUE(fixture.CreateContainer({fixture.BusyboxLayer()}, {"true"}, "first").ok());
  auto taken = fixture.CreateContainer({fixture.BusyboxLayer()}, {"true"}, "first");
  EXPECT_EQ(taken.status().code(), absl::StatusCode::kAlreadyExists);
  auto bad_name = fixture.CreateContainer({fixture.BusyboxLayer()}, {"true"}, "../evil");
  EXPECT_EQ(bad_name.status().code(), absl::StatusCode::kInvalidArgument);

  ASSERT_TRUE(fixture.CreateContainer({fixture.BusyboxLayer()}, {"no-such-binary"}, "nocmd").ok());
  auto start = runtime.Start("nocmd");
  EXPECT_EQ(start.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(start.status().message(),
                                "\"no-such-binary\": executable file not found in $PATH"))
      << start.status();
  EXPECT_EQ(runtime.Inspect("nocmd")->state, ContainerState::kCreated);

  EXPECT_EQ(runtime.Remove("no-such-container", false).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(runtime.Start("no-such-container").status().code(), absl::StatusCode::kNotFound);

  ASSERT_TRUE(fixture.CreateContainer({fixture.BusyboxLayer()}, {"sleep", "100"}, "busy").ok());
  ASSERT_TRUE(runtime.Start("busy").ok());
  auto refused = runtime.Remove("busy", false);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(runtime.Remove("busy", true).ok());
  EXPECT_EQ(runtime.Inspect("busy").status().code(), absl::StatusCode::kNotFound);
}

TEST(ContainersTest, LogsKeepEveryRun) {
  RuntimeFixture fixture;
  ASSERT_TRUE(fixture.CreateContainer({fixture.BusyboxLayer()}, {"echo", "hello"}, "echo").ok());
  for (int run = 0; run < 2; ++run) {
    ASSERT_TRUE(fixture.runtime().Start("echo").ok());
    ASSERT_TRUE(fixture.runtime().Wait("echo", absl::Now() + absl::Seconds(30)).ok());
  }
  auto logs = fixture.runtime().Logs("echo", false);
  ASSERT_TRUE(logs.ok());
  auto result = Collect(logs->get());
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->stdout_text, "hello\nhello\n");
}

}  // namespace
}  // namespace strata::runtime
