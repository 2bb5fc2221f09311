// Runtime::Logs (docker logs --tail, --since, with the times the monitor recorded) and
// Runtime::Top (docker top: ps of the container's processes).

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <deque>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "lib/base/errors.h"
#include "lib/base/fs.h"
#include "lib/base/subprocess.h"
#include "nlohmann/json.hpp"
#include "services/runtime/core/process_streams.h"
#include "services/runtime/core/runtime.h"

namespace strata::runtime {
namespace {

bool IsRunning(ContainerState state) {
  return state == ContainerState::kRunning || state == ContainerState::kPaused;
}

bool IsOutput(const Frame& frame) {
  return frame.type == FrameType::kStdout || frame.type == FrameType::kStderr;
}

// Serves `head` (the tail of the log, already cut and filtered), then what `rest` brings,
// dropping output written before `since`.
class FilteredLogStream : public ProcessStream {
 public:
  FilteredLogStream(std::deque<Frame> head, std::unique_ptr<ProcessStream> rest, absl::Time since)
      : queue_(std::move(head)), rest_(std::move(rest)), since_(since) {}

  absl::StatusOr<std::optional<Frame>> Next() override {
    for (;;) {
      if (!queue_.empty()) {
        Frame frame = std::move(queue_.front());
        queue_.pop_front();
        return frame;
      }
      if (!rest_) return std::nullopt;
      ASSIGN_OR_RETURN(std::optional<Frame> frame, rest_->Next());
      if (!frame) return frame;
      if (frame->type == FrameType::kTime) {
        int64_t nanos = 0;
        time_ =
            DecodeTime(frame->payload, &nanos) ? absl::FromUnixNanos(nanos) : absl::InfinitePast();
        pending_time_ = std::move(*frame);
        continue;
      }
      if (IsOutput(*frame)) {
        if (since_ != absl::InfinitePast() && time_ != absl::InfinitePast() && time_ < since_) {
          continue;
        }
        if (pending_time_) queue_.push_back(*std::move(pending_time_));
        pending_time_.reset();
        queue_.push_back(*std::move(frame));
        continue;
      }
      return frame;  // the exit
    }
  }
  absl::Status SendStdin(absl::string_view) override { return absl::OkStatus(); }
  absl::Status CloseStdin() override { return absl::OkStatus(); }
  absl::Status Resize(TerminalSize) override { return absl::OkStatus(); }
  void Cancel() override {
    if (rest_) rest_->Cancel();
  }

 private:
  std::deque<Frame> queue_;
  std::unique_ptr<ProcessStream> rest_;
  const absl::Time since_;
  absl::Time time_ = absl::InfinitePast();
  std::optional<Frame> pending_time_;
};

struct LogLine {
  absl::Time time;
  FrameType type;
  std::string text;
};

}  // namespace

absl::StatusOr<std::unique_ptr<ProcessStream>> Runtime::Logs(const std::string& container,
                                                             bool follow, int64_t tail,
                                                             absl::Time since) {
  ASSIGN_OR_RETURN(std::shared_ptr<Entry> entry, Find(container));
  ContainerRecord record = RecordOf(*entry);
  auto exit_info = ExitInfoOnceExited(entry);
  const ContainerPaths paths = layout_.Container(record.id);
  const std::string& log = paths.main.log;
  std::deque<Frame> head;
  int64_t offset = 0;
  if (tail >= 0) {
    // The last `tail` lines so far; the stream goes on from where this read stopped.
    std::deque<LogLine> lines;
    UniqueFd fd(::open(log.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.valid()) {
      FrameReader reader(fd.get());
      absl::Time time = absl::InfinitePast();
      for (;;) {
        absl::StatusOr<std::optional<Frame>> frame = reader.Next();
        if (!frame.ok() || !frame->has_value()) break;
        offset += static_cast<int64_t>(kFrameHeaderSize + (**frame).payload.size());
        if ((**frame).type == FrameType::kTime) {
          int64_t nanos = 0;
          time = DecodeTime((**frame).payload, &nanos) ? absl::FromUnixNanos(nanos)
                                                       : absl::InfinitePast();
          continue;
        }
        if (!IsOutput(**frame)) continue;
        if (since != absl::InfinitePast() && time != absl::InfinitePast() && time < since) {
          continue;
        }
        for (absl::string_view line :
             absl::StrSplit((**frame).payload, absl::ByString("\n"), absl::SkipEmpty())) {
          // Each line keeps its newline (the last one of a frame may have none).
          const size_t end =
              static_cast<size_t>(line.data() - (**frame).payload.data()) + line.size();
          const bool newline = end < (**frame).payload.size();
          lines.push_back({time, (**frame).type, absl::StrCat(line, newline ? "\n" : "")});
          if (static_cast<int64_t>(lines.size()) > tail) lines.pop_front();
        }
      }
    }
    for (LogLine& line : lines) {
      if (line.time != absl::InfinitePast()) {
        head.push_back({FrameType::kTime, EncodeTime(absl::ToUnixNanos(line.time))});
      }
      head.push_back({line.type, std::move(line.text)});
    }
  }
  std::unique_ptr<ProcessStream> rest;
  if (follow && IsRunning(record.state)) {
    absl::StatusOr<std::unique_ptr<MonitorConnection>> connection =
        MonitorConnection::Connect(paths.main.socket, false, offset);
    if (connection.ok()) rest = NewMonitorStream(std::move(*connection), log, offset, exit_info);
  }
  if (!rest) {
    const bool ended = record.state == ContainerState::kExited || follow;
    rest = NewLogStream(log, offset, ended ? std::function<ExitInfo()>(exit_info) : nullptr);
  }
  return std::unique_ptr<ProcessStream>(
      new FilteredLogStream(std::move(head), std::move(rest), since));
}

absl::StatusOr<Runtime::TopResult> Runtime::Top(const std::string& container,
                                                const std::vector<std::string>& ps_args) {
  ASSIGN_OR_RETURN(std::shared_ptr<Entry> entry, Find(container));
  ContainerRecord record = RecordOf(*entry);
  if (!IsRunning(record.state)) {
    return absl::FailedPreconditionError(absl::StrCat("Container ", record.id, " is not running"));
  }
  // The container's pids from runc (its cgroup), then the host's ps filtered to them, as
  // docker does.
  ASSIGN_OR_RETURN(CommandResult pids_result,
                   RunCommand({options_.runc, "--root", layout_.runc_root(), "ps", "--format",
                               "json", record.id}));
  if (pids_result.exit_code != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("runc ps: ", absl::StripAsciiWhitespace(pids_result.output)));
  }
  nlohmann::json pid_list = nlohmann::json::parse(pids_result.output, nullptr, false);
  std::set<std::string> pids;
  if (pid_list.is_array()) {
    for (const auto& pid : pid_list) {
      if (pid.is_number_integer()) pids.insert(std::to_string(pid.get<int64_t>()));
    }
  }
  std::vector<std::string> argv = {"ps"};
  if (ps_args.empty()) {
    argv.push_back("-ef");
  } else {
    argv.insert(argv.end(), ps_args.begin(), ps_args.end());
  }
  ASSIGN_OR_RETURN(CommandResult ps, RunCommand(argv));
  if (ps.exit_code != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("Error running ps: ", absl::StripAsciiWhitespace(ps.output)));
  }
  std::vector<std::string> lines = absl::StrSplit(ps.output, '\n', absl::SkipEmpty());
  TopResult result;
  if (lines.empty()) return absl::InternalError("ps printed nothing");
  result.titles = absl::StrSplit(lines[0], ' ', absl::SkipEmpty());
  size_t pid_column = result.titles.size();
  for (size_t i = 0; i < result.titles.size(); ++i) {
    if (result.titles[i] == "PID") pid_column = i;
  }
  if (pid_column == result.titles.size()) {
    return absl::InvalidArgumentError("Couldn't find PID field in ps output");
  }
  for (size_t i = 1; i < lines.size(); ++i) {
    std::vector<std::string> fields = absl::StrSplit(lines[i], ' ', absl::SkipEmpty());
    if (fields.size() <= pid_column || pids.count(fields[pid_column]) == 0) continue;
    // The last column (the command) keeps its spaces.
    if (fields.size() > result.titles.size()) {
      std::vector<std::string> tail(fields.begin() + static_cast<long>(result.titles.size()) - 1,
                                    fields.end());
      fields.resize(result.titles.size() - 1);
      fields.push_back(absl::StrJoin(tail, " "));
    }
    result.processes.push_back(std::move(fields));
  }
  return result;
}

}  // namespace strata::runtime
