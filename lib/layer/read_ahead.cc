#include "lib/layer/read_ahead.h"

#include <utility>

namespace strata::layer {

ReadAheadSource::ReadAheadSource(ByteSource* inner, size_t depth)
    : inner_(inner), depth_(depth == 0 ? 1 : depth), thread_([this] { Run(); }) {}

ReadAheadSource::~ReadAheadSource() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

void ReadAheadSource::Run() {
  for (;;) {
    absl::StatusOr<absl::string_view> chunk = inner_->Read();
    absl::MutexLock lock(&mu_);
    if (!chunk.ok() || chunk->empty()) {
      if (!chunk.ok()) status_ = chunk.status();
      ended_ = true;
      return;
    }
    auto room = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return chunks_.size() < depth_ || stopping_;
    };
    mu_.Await(absl::Condition(&room));
    if (stopping_) return;
    chunks_.emplace_back(chunk->data(), chunk->size());
  }
}

absl::StatusOr<absl::string_view> ReadAheadSource::Read() {
  absl::MutexLock lock(&mu_);
  auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !chunks_.empty() || ended_; };
  mu_.Await(absl::Condition(&ready));
  if (chunks_.empty()) {
    if (!status_.ok()) return status_;
    return absl::string_view();
  }
  current_ = std::move(chunks_.front());
  chunks_.pop_front();
  return absl::string_view(current_);
}

}  // namespace strata::layer
