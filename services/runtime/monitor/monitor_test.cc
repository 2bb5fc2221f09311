// The process monitor on its own: a real runc bundle (busybox), the real monitor binary, and
// the runtime's client side of its socket protocol. What the runtime builds on: output frames
// kept apart by stream, the exit frame and exit file, the log as a replayable copy of the
// frames, stdin, and runc's failures reported through the ready pipe.

#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "lib/base/fs.h"
#include "lib/testing/subprocess.h"
#include "lib/testing/temp_dir.h"
#include "nlohmann/json.hpp"
#include "services/runtime/core/monitor_client.h"
#include "services/runtime/monitor/frames.h"
#include "services/runtime/testing/runtime_fixture.h"

namespace strata::runtime {
namespace {

using nlohmann::json;
using strata::testing::RunfilePath;
using strata::testing::RunOk;

struct Output {
  std::string out;
  std::string err;
  int exit_code = -1;
  bool exited = false;
};

// Reads frames until the exit frame or the end of the stream.
Output ReadAll(MonitorConnection& connection) {
  Output output;
  while (true) {
    absl::StatusOr<std::optional<Frame>> frame = connection.Next();
    if (!frame.ok() || !frame->has_value()) break;
    const Frame& f = **frame;
    if (f.type == FrameType::kStdout) output.out += f.payload;
    if (f.type == FrameType::kStderr) output.err += f.payload;
    if (f.type == FrameType::kExit) {
      int64_t finished = 0;
      int32_t code = -1;
      EXPECT_TRUE(DecodeExit(f.payload, &code, &finished));
      EXPECT_GT(finished, 0);
      output.exit_code = code;
      output.exited = true;
      break;
    }
  }
  return output;
}

class MonitorTest : public ::testing::Test {
 protected:
  MonitorTest() {
    // Unix socket paths are short: the socket goes under /tmp.
    socket_ = absl::StrCat("/tmp/strata-monitor-test-", ::getpid(), ".sock");
    testing::BuildBusyboxRootfs(bundle_.Join("rootfs"));
  }
  ~MonitorTest() override {
    (void)strata::testing::Run({"runc", "--root", runc_root(), "delete", "--force", id_});
    ::unlink(socket_.c_str());
  }

  std::string runc_root() const { return state_.Join("runc"); }

  // Writes the bundle's config.json (runc's own default spec) running args.
  void WriteSpec(const std::vector<std::string>& args) {
    ASSERT_TRUE(RunOk({"runc", "spec", "--bundle", bundle_.path()}).ok());
    std::ifstream in(bundle_.Join("config.json"));
    json spec = json::parse(in);
    spec["process"]["terminal"] = false;
    spec["process"]["args"] = args;
    spec["root"]["readonly"] = false;
    // The host's hard limits may be lower than runc's defaults: ask for none.
    spec["process"].erase("rlimits");
    std::ofstream(bundle_.Join("config.json")) << spec.dump();
  }

  absl::StatusOr<int> Launch(bool with_stdin) {
    std::vector<std::string> argv = {RunfilePath("services/runtime/monitor/strata-runtime-monitor"),
                                     "--id=" + id_,
                                     "--mode=create",
                                     "--bundle=" + bundle_.path(),
                                     "--runc=runc",
                                     "--runc-root=" + runc_root(),
                                     "--socket=" + socket_,
                                     "--log=" + state_.Join("log"),
                                     "--exit-file=" + state_.Join("exit.json"),
                                     "--diagnostics=" + state_.Join("monitor.log"),
                                     "--ready-fd=3"};
    if (with_stdin) argv.push_back("--stdin");
    return LaunchMonitor(argv, absl::Seconds(30));
  }

  strata::testing::TempDir bundle_{"monitor-bundle"};
  strata::testing::TempDir state_{"monitor-state"};
  std::string id_ = absl::StrCat("monitor-test-", ::getpid());
  std::string socket_;
};

TEST_F(MonitorTest, KeepsStreamsApartAndRecordsTheExit) {
  WriteSpec({"sh", "-c", "sleep 0.3; echo out; echo err >&2; exit 3"});
  absl::StatusOr<int> pid = Launch(/*with_stdin=*/false);
  ASSERT_TRUE(pid.ok()) << pid.status();
  EXPECT_GT(*pid, 1);

  auto connection = MonitorConnection::Connect(socket_, /*wants_stdin=*/false,
                                               /*replay_offset=*/0);
  ASSERT_TRUE(connection.ok()) << connection.status();
  Output live = ReadAll(**connection);
  EXPECT_EQ(live.out, "out\n");
  EXPECT_EQ(live.err, "err\n");
  ASSERT_TRUE(live.exited);
  EXPECT_EQ(live.exit_code, 3);

  // The exit file, for a runtime that was not attached when the process ended.
  absl::StatusOr<std::string> exit_text = ReadFile(state_.Join("exit.json"));
  for (int i = 0; i < 100 && !exit_text.ok(); ++i) {
    ::usleep(50'000);
    exit_text = ReadFile(state_.Join("exit.json"));
  }
  ASSERT_TRUE(exit_text.ok()) << exit_text.status();
  json exit_json = json::parse(*exit_text);
  EXPECT_EQ(exit_json.at("exit_code"), 3);
  EXPECT_FALSE(exit_json.at("finished").get<std::string>().empty());

  // The log holds the same frames: a replay is a plain read of it.
  UniqueFd log(::open(state_.Join("log").c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(log.valid());
  FrameReader reader(log.get());
  std::string logged_out, logged_err;
  while (true) {
    absl::StatusOr<std::optional<Frame>> frame = reader.Next();
    ASSERT_TRUE(frame.ok()) << frame.status();
    if (!frame->has_value()) break;
    if ((*frame)->type == FrameType::kStdout) logged_out += (*frame)->payload;
    if ((*frame)->type == FrameType::kStderr) logged_err += (*frame)->payload;
  }
  EXPECT_EQ(logged_out, "out\n");
  EXPECT_EQ(logged_err, "err\n");
}

TEST_F(MonitorTest, RelaysStdinUntilItIsClosed) {
  WriteSpec({"sh", "-c", "cat; echo done"});
  absl::StatusOr<int> pid = Launch(/*with_stdin=*/true);
  ASSERT_TRUE(pid.ok()) << pid.status();
  auto connection = MonitorConnection::Connect(socket_, /*wants_stdin=*/true,
                                               /*replay_offset=*/0);
  ASSERT_TRUE(connection.ok()) << connection.status();
  ASSERT_TRUE((*connection)->SendStdin("hello\n").ok());
  ASSERT_TRUE((*connection)->SendStdin("world\n").ok());
  ASSERT_TRUE((*connection)->CloseStdin().ok());
  Output output = ReadAll(**connection);
  EXPECT_EQ(output.out, "hello\nworld\ndone\n");
  ASSERT_TRUE(output.exited);
  EXPECT_EQ(output.exit_code, 0);
}

TEST_F(MonitorTest, ReportsWhatRuncSaysWhenTheProcessCannotStart) {
  WriteSpec({"/no/such/program"});
  absl::StatusOr<int> pid = Launch(/*with_stdin=*/false);
  ASSERT_FALSE(pid.ok());
  EXPECT_NE(pid.status().message().find("no such file"), std::string::npos) << pid.status();
  // Nothing is left listening for a process that never ran.
  EXPECT_FALSE(MonitorConnection::Connect(socket_, false, -1).ok());
}

TEST_F(MonitorTest, IsGoneOnceTheProcessEnded) {
  WriteSpec({"true"});
  absl::StatusOr<int> pid = Launch(/*with_stdin=*/false);
  ASSERT_TRUE(pid.ok()) << pid.status();
  absl::StatusOr<std::unique_ptr<MonitorConnection>> connection =
      MonitorConnection::Connect(socket_, true, 0);
  ASSERT_TRUE(connection.ok()) << connection.status();
  ReadAll(**connection);
  absl::Status late = absl::OkStatus();
  for (int i = 0; i < 100 && late.ok(); ++i) {
    late = MonitorConnection::Connect(socket_, false, -1).status();
    if (late.ok()) ::usleep(50'000);
  }
  EXPECT_TRUE(absl::IsUnavailable(late)) << late;
  // Writing to a monitor that is gone is an error for the writer, never a SIGPIPE that kills
  // it (this test runs with SIGPIPE's default action, as a library user may).
  absl::Status write = absl::OkStatus();
  for (int i = 0; i < 3 && write.ok(); ++i) write = (*connection)->SendStdin("too late\n");
  EXPECT_FALSE(write.ok());
}

}  // namespace
}  // namespace strata::runtime
