#ifndef STRATA_LIB_RPC_SERVER_STREAMS_H_
#define STRATA_LIB_RPC_SERVER_STREAMS_H_

// What streaming RPC handlers share (the runtime's and the gateway's):
//   ChunkSink    a ByteSink that writes bytes to a server stream as messages of at most
//                kChunkSize (DataChunk-like messages with a `data` field);
//   InputPump    reads a bidirectional call's requests on a thread of its own (stdin, its
//                end, resizes) while the handler's thread writes output;
//   CancelWatch  runs a callback when the client of a server-streaming call goes away, so a
//                handler blocked on something else (a process's output) ends.

#include <algorithm>
#include <functional>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/sync_stream.h"
#include "lib/base/errors.h"
#include "lib/layer/stream.h"
#include "lib/rpc/limits.h"

namespace strata::rpc {

// Message has `set_data(std::string)`. Errors: CANCELLED when the client went away.
template <typename Message>
class ChunkSink : public layer::ByteSink {
 public:
  ChunkSink(grpc::ServerContext* context, grpc::internal::WriterInterface<Message>* writer)
      : context_(context), writer_(writer) {}

  absl::Status Write(absl::string_view data) override {
    while (!data.empty()) {
      if (context_->IsCancelled()) return absl::CancelledError("the client went away");
      const size_t n = std::min(kChunkSize - pending_.size(), data.size());
      pending_.append(data.data(), n);
      data.remove_prefix(n);
      if (pending_.size() == kChunkSize) RETURN_IF_ERROR(Flush());
    }
    return absl::OkStatus();
  }

  // Sends what is buffered.
  absl::Status Flush() {
    if (pending_.empty()) return absl::OkStatus();
    Message message;
    message.set_data(std::move(pending_));
    pending_.clear();
    if (!writer_->Write(message)) return absl::CancelledError("the client went away");
    return absl::OkStatus();
  }

  absl::Status Close() override { return Flush(); }

 private:
  grpc::ServerContext* context_;
  grpc::internal::WriterInterface<Message>* writer_;
  std::string pending_;
};

// Hands each request of a bidirectional stream to on_request, on a thread of its own, until
// the client half-closes; runs on_cancel when the call was cancelled (the client went away).
template <typename Request>
class InputPump {
 public:
  InputPump(grpc::ServerContext* context, grpc::internal::ReaderInterface<Request>* stream,
            std::function<void(const Request&)> on_request, std::function<void()> on_cancel)
      : thread_([this, context, stream, on_request, on_cancel] {
          Request request;
          while (stream->Read(&request)) on_request(request);
          if (context->IsCancelled()) on_cancel();
          finished_.Notify();
        }) {}
  InputPump(const InputPump&) = delete;
  InputPump& operator=(const InputPump&) = delete;

  // Lets a well-behaved client half-close, then cancels the call so the reader ends.
  void Finish(grpc::ServerContext* context) {
    if (!finished_.WaitForNotificationWithTimeout(absl::Seconds(5))) context->TryCancel();
    thread_.join();
  }

 private:
  absl::Notification finished_;
  std::thread thread_;
};

// Runs on_cancel (once) if the call is cancelled while this object lives.
class CancelWatch {
 public:
  CancelWatch(grpc::ServerContext* context, std::function<void()> on_cancel)
      : thread_([this, context, on_cancel] {
          while (!done_.WaitForNotificationWithTimeout(absl::Milliseconds(200))) {
            if (context->IsCancelled()) {
              on_cancel();
              return;
            }
          }
        }) {}
  ~CancelWatch() {
    done_.Notify();
    thread_.join();
  }
  CancelWatch(const CancelWatch&) = delete;
  CancelWatch& operator=(const CancelWatch&) = delete;

 private:
  absl::Notification done_;
  std::thread thread_;
};

}  // namespace strata::rpc

#endif  // STRATA_LIB_RPC_SERVER_STREAMS_H_
