#include "services/runtime/core/process_streams.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

#include "absl/time/time.h"
#include "lib/base/errors.h"
#include "lib/base/fs.h"

namespace strata::runtime {
namespace {

Frame ExitFrame(const ExitInfo& info) {
  return Frame{FrameType::kExit,
               EncodeExit(info.exit_code, info.finished == absl::InfinitePast()
                                              ? 0
                                              : absl::ToUnixNanos(info.finished))};
}

class MonitorStream : public ProcessStream {
 public:
  MonitorStream(std::unique_ptr<MonitorConnection> connection, std::string log_path,
                int64_t log_offset, std::function<ExitInfo()> exit_info)
      : connection_(std::move(connection)),
        log_path_(std::move(log_path)),
        position_(log_offset),
        exit_info_(std::move(exit_info)) {}

  absl::StatusOr<std::optional<Frame>> Next() override {
    if (fallback_) return fallback_->Next();
    if (done_) return std::nullopt;
    absl::StatusOr<std::optional<Frame>> frame = connection_->Next();
    if (frame.ok() && frame->has_value()) {
      if ((**frame).type == FrameType::kExit) {
        done_ = true;
      } else {
        // Output frames arrive exactly as they stand in the log.
        position_ += static_cast<int64_t>(kFrameHeaderSize + (**frame).payload.size());
      }
      return frame;
    }
    done_ = true;
    if (cancelled_) return std::nullopt;
    // The monitor closed without an exit frame: it was finishing as we connected (or it was
    // killed). What it did not send is in its log.
    fallback_ = NewLogStream(log_path_, position_, exit_info_);
    return fallback_->Next();
  }

  absl::Status SendStdin(absl::string_view data) override { return connection_->SendStdin(data); }
  absl::Status CloseStdin() override { return connection_->CloseStdin(); }
  absl::Status Resize(TerminalSize size) override {
    return connection_->Resize(size.rows, size.cols);
  }
  void Cancel() override {
    cancelled_ = true;
    connection_->Shutdown();
  }

 private:
  std::unique_ptr<MonitorConnection> connection_;
  const std::string log_path_;
  int64_t position_;
  std::function<ExitInfo()> exit_info_;
  std::unique_ptr<ProcessStream> fallback_;
  bool done_ = false;
  std::atomic<bool> cancelled_{false};
};

class LogStream : public ProcessStream {
 public:
  LogStream(UniqueFd fd, std::function<ExitInfo()> exit_info)
      : fd_(std::move(fd)), reader_(fd_.get()), exit_info_(std::move(exit_info)) {}

  absl::StatusOr<std::optional<Frame>> Next() override {
    if (done_ || cancelled_) return std::nullopt;
    if (fd_.valid()) {
      absl::StatusOr<std::optional<Frame>> frame = reader_.Next();
      if (frame.ok() && frame->has_value()) return frame;
    }
    done_ = true;
    if (!exit_info_) return std::nullopt;
    return ExitFrame(exit_info_());
  }

  absl::Status SendStdin(absl::string_view) override { return absl::OkStatus(); }
  absl::Status CloseStdin() override { return absl::OkStatus(); }
  absl::Status Resize(TerminalSize) override { return absl::OkStatus(); }
  void Cancel() override { cancelled_ = true; }

 private:
  UniqueFd fd_;
  FrameReader reader_;
  std::function<ExitInfo()> exit_info_;
  bool done_ = false;
  std::atomic<bool> cancelled_{false};
};

class CleanupStream : public ProcessStream {
 public:
  CleanupStream(std::unique_ptr<ProcessStream> stream, std::function<void()> cleanup)
      : stream_(std::move(stream)), cleanup_(std::move(cleanup)) {}
  ~CleanupStream() override {
    stream_.reset();
    cleanup_();
  }
  absl::StatusOr<std::optional<Frame>> Next() override { return stream_->Next(); }
  absl::Status SendStdin(absl::string_view data) override { return stream_->SendStdin(data); }
  absl::Status CloseStdin() override { return stream_->CloseStdin(); }
  absl::Status Resize(TerminalSize size) override { return stream_->Resize(size); }
  void Cancel() override { stream_->Cancel(); }

 private:
  std::unique_ptr<ProcessStream> stream_;
  std::function<void()> cleanup_;
};

}  // namespace

std::unique_ptr<ProcessStream> NewMonitorStream(std::unique_ptr<MonitorConnection> connection,
                                                const std::string& log_path, int64_t log_offset,
                                                std::function<ExitInfo()> exit_info) {
  return std::make_unique<MonitorStream>(std::move(connection), log_path, log_offset,
                                         std::move(exit_info));
}

std::unique_ptr<ProcessStream> NewLogStream(const std::string& log_path, int64_t offset,
                                            std::function<ExitInfo()> exit_info) {
  UniqueFd fd(::open(log_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.valid() && ::lseek(fd.get(), offset, SEEK_SET) < 0) fd.Reset();
  return std::make_unique<LogStream>(std::move(fd), std::move(exit_info));
}

std::unique_ptr<ProcessStream> WithCleanup(std::unique_ptr<ProcessStream> stream,
                                           std::function<void()> cleanup) {
  return std::make_unique<CleanupStream>(std::move(stream), std::move(cleanup));
}

}  // namespace strata::runtime
