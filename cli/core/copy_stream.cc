#include "cli/core/copy_stream.h"

#include "absl/strings/str_cat.h"

namespace strata::gateway::internal {

absl::StatusOr<std::unique_ptr<CopyStream>> CopyStream::Open(Services& services,
                                                             const rt::CopyFromRequest& request) {
  absl::StatusOr<rt::Runtime::Stub*> runtime = services.runtime();
  if (!runtime.ok()) return runtime.status();
  std::unique_ptr<CopyStream> stream(new CopyStream(services, request.container()));
  stream->reader_ = (*runtime)->CopyFrom(&stream->context_, request);
  rt::CopyFromResponse first;
  if (!stream->reader_->Read(&first)) {
    stream->finished_ = true;
    grpc::Status status = stream->reader_->Finish();
    if (status.ok()) return absl::DataLossError("the runtime's copy stream ended at once");
    return stream->CallStatus(status);
  }
  if (!first.has_stat()) {
    return absl::DataLossError("the runtime's copy stream did not start with a stat");
  }
  stream->stat_ = first.stat();
  stream->message_ = std::move(first);
  stream->message_.clear_stat();
  return stream;
}

CopyStream::~CopyStream() {
  if (!finished_) (void)Finish(absl::CancelledError("abandoned"));
}

absl::StatusOr<absl::string_view> CopyStream::Read() {
  // message_ holds the data handed out last (or the first message's): drop it first.
  for (;;) {
    if (!message_.data().empty()) {
      std::string* data = message_.mutable_data();
      pending_.swap(*data);
      data->clear();
      return absl::string_view(pending_);
    }
    if (ended_) return absl::string_view();
    if (!reader_->Read(&message_)) {
      ended_ = true;
      finished_ = true;
      end_status_ = CallStatus(reader_->Finish());
      if (!end_status_.ok()) return end_status_;
      return absl::string_view();
    }
  }
}

absl::Status CopyStream::Finish(const absl::Status& caller) {
  if (!finished_) {
    if (!caller.ok()) context_.TryCancel();
    rt::CopyFromResponse ignored;
    while (reader_->Read(&ignored)) {
    }
    finished_ = true;
    end_status_ = CallStatus(reader_->Finish());
  }
  if (!caller.ok()) return caller;
  return end_status_;
}

absl::Status CopyStream::CallStatus(const grpc::Status& status) const {
  if (!status.ok()) return services_.RuntimeError(status, container_);
  return absl::OkStatus();
}

}  // namespace strata::gateway::internal
