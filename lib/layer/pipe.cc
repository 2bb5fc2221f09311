#include "lib/layer/pipe.h"

#include <utility>

namespace strata::layer {

absl::Status Pipe::Sink::Write(absl::string_view data) {
  if (data.empty()) return absl::OkStatus();
  absl::MutexLock lock(&pipe_->mu_);
  pipe_->mu_.Await(absl::Condition(
      +[](Pipe* pipe) ABSL_EXCLUSIVE_LOCKS_REQUIRED(pipe->mu_) {
        return pipe->reader_gone_ || pipe->chunks_.size() < pipe->depth_;
      },
      pipe_));
  if (!pipe_->reader_gone_) pipe_->chunks_.emplace_back(data.data(), data.size());
  return absl::OkStatus();
}

absl::Status Pipe::Sink::Close() {
  absl::MutexLock lock(&pipe_->mu_);
  pipe_->ended_ = true;
  return absl::OkStatus();
}

void Pipe::Fail(absl::Status status) {
  absl::MutexLock lock(&mu_);
  if (ended_) return;
  ended_ = true;
  status_ = std::move(status);
}

void Pipe::CloseRead() {
  absl::MutexLock lock(&mu_);
  reader_gone_ = true;
  chunks_.clear();
}

absl::StatusOr<absl::string_view> Pipe::Source::Read() {
  absl::MutexLock lock(&pipe_->mu_);
  pipe_->mu_.Await(absl::Condition(
      +[](Pipe* pipe) ABSL_EXCLUSIVE_LOCKS_REQUIRED(pipe->mu_) {
        return pipe->ended_ || !pipe->chunks_.empty();
      },
      pipe_));
  if (pipe_->chunks_.empty()) {
    if (!pipe_->status_.ok()) return pipe_->status_;
    return absl::string_view();
  }
  current_ = std::move(pipe_->chunks_.front());
  pipe_->chunks_.pop_front();
  return absl::string_view(current_);
}

}  // namespace strata::layer
