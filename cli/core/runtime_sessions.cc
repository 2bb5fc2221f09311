#include "cli/core/runtime_sessions.h"

#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/sync_stream.h"

namespace strata::gateway::internal {
namespace {

// What Next() does for both kinds: reads the stream; at its end, turns the call's status
// into the caller's error (or nullopt for an end without exit status).
template <typename Stream>
absl::StatusOr<std::optional<rt::ProcessOutput>> ReadNext(Services& services,
                                                          const std::string& container,
                                                          Stream* stream, bool* finished) {
  if (*finished) return absl::CancelledError("the session has ended");
  rt::ProcessOutput output;
  if (stream->Read(&output)) return output;
  *finished = true;
  grpc::Status status = stream->Finish();
  if (!status.ok()) return services.RuntimeError(status, container);
  return std::nullopt;
}

// Attach or Exec: Request is AttachRequest or ExecRequest (same oneof shape).
template <typename Request>
class BidiSession : public ProcessSession {
 public:
  using Stream = grpc::ClientReaderWriter<Request, rt::ProcessOutput>;

  BidiSession(Services& services, std::string container,
              std::unique_ptr<grpc::ClientContext> context)
      : services_(services), container_(std::move(container)), context_(std::move(context)) {}
  ~BidiSession() override {
    if (finished_) return;
    // After the exit status the server ends the call once we half-closed (Next did); before
    // it, the caller gave up: cancel.
    if (!exited_) context_->TryCancel();
    rt::ProcessOutput ignored;
    while (stream_->Read(&ignored)) {
    }
    stream_->Finish();
  }

  void set_stream(std::unique_ptr<Stream> stream) { stream_ = std::move(stream); }
  Stream* stream() { return stream_.get(); }

  absl::StatusOr<std::optional<rt::ProcessOutput>> Next() override {
    absl::StatusOr<std::optional<rt::ProcessOutput>> next =
        ReadNext(services_, container_, stream_.get(), &finished_);
    if (next.ok() && next->has_value() && (*next)->has_exit()) {
      // The process is gone: no more input; let the server end the call.
      exited_ = true;
      absl::MutexLock lock(&write_mu_);
      if (!writes_done_) {
        stream_->WritesDone();
        writes_done_ = true;
      }
    }
    return next;
  }

  absl::Status SendStdin(absl::string_view data) override {
    Request request;
    request.set_stdin(std::string(data));
    return Send(request);
  }
  absl::Status CloseStdin() override {
    Request request;
    request.set_close_stdin(true);
    return Send(request);
  }
  absl::Status Resize(uint32_t rows, uint32_t cols) override {
    Request request;
    request.mutable_resize()->set_rows(rows);
    request.mutable_resize()->set_cols(cols);
    return Send(request);
  }
  void Cancel() override { context_->TryCancel(); }

  absl::Status Send(const Request& request) {
    absl::MutexLock lock(&write_mu_);
    if (writes_done_) return absl::FailedPreconditionError("the process has exited");
    if (!stream_->Write(request)) return absl::CancelledError("the session has ended");
    return absl::OkStatus();
  }

 private:
  Services& services_;
  const std::string container_;
  std::unique_ptr<grpc::ClientContext> context_;
  std::unique_ptr<Stream> stream_;
  // Only Next()'s thread (and the destructor).
  bool finished_ = false;
  bool exited_ = false;
  absl::Mutex write_mu_;
  bool writes_done_ ABSL_GUARDED_BY(write_mu_) = false;
};

class LogsSession : public ProcessSession {
 public:
  LogsSession(Services& services, std::string container,
              std::unique_ptr<grpc::ClientContext> context,
              std::unique_ptr<grpc::ClientReader<rt::ProcessOutput>> reader)
      : services_(services),
        container_(std::move(container)),
        context_(std::move(context)),
        reader_(std::move(reader)) {}
  ~LogsSession() override {
    if (!finished_) {
      context_->TryCancel();
      rt::ProcessOutput ignored;
      while (reader_->Read(&ignored)) {
      }
      reader_->Finish();
    }
  }

  absl::StatusOr<std::optional<rt::ProcessOutput>> Next() override {
    return ReadNext(services_, container_, reader_.get(), &finished_);
  }
  absl::Status SendStdin(absl::string_view) override { return NoInput(); }
  absl::Status CloseStdin() override { return NoInput(); }
  absl::Status Resize(uint32_t, uint32_t) override { return NoInput(); }
  void Cancel() override { context_->TryCancel(); }

 private:
  static absl::Status NoInput() { return absl::FailedPreconditionError("logs take no input"); }

  Services& services_;
  const std::string container_;
  std::unique_ptr<grpc::ClientContext> context_;
  std::unique_ptr<grpc::ClientReader<rt::ProcessOutput>> reader_;
  bool finished_ = false;
};

// Opens a bidirectional session and sends its first message. An error the server answered
// the options with (no such container, ...) is reported here, not by the first Next().
template <typename Request, typename Open>
absl::StatusOr<std::unique_ptr<ProcessSession>> OpenBidi(Services& services,
                                                         const std::string& container,
                                                         const Request& first, Open open) {
  absl::StatusOr<rt::Runtime::Stub*> runtime = services.runtime();
  if (!runtime.ok()) return runtime.status();
  auto context = std::make_unique<grpc::ClientContext>();
  grpc::ClientContext* raw_context = context.get();
  auto session = std::make_unique<BidiSession<Request>>(services, container, std::move(context));
  session->set_stream(open(*runtime, raw_context));
  if (!session->stream()->Write(first)) {
    // The server ended the call at once: its status says why.
    rt::ProcessOutput ignored;
    while (session->stream()->Read(&ignored)) {
    }
    grpc::Status status = session->stream()->Finish();
    return status.ok() ? absl::UnavailableError("the runtime ended the session at once")
                       : services.RuntimeError(status, container);
  }
  return session;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ProcessSession>> OpenAttach(Services& services,
                                                           const rt::AttachOptions& options) {
  rt::AttachRequest first;
  *first.mutable_options() = options;
  return OpenBidi(services, options.container(), first,
                  [](rt::Runtime::Stub* runtime, grpc::ClientContext* context) {
                    return runtime->Attach(context);
                  });
}

absl::StatusOr<std::unique_ptr<ProcessSession>> OpenExec(Services& services,
                                                         const rt::ExecOptions& options) {
  rt::ExecRequest first;
  *first.mutable_options() = options;
  return OpenBidi(services, options.container(), first,
                  [](rt::Runtime::Stub* runtime, grpc::ClientContext* context) {
                    return runtime->Exec(context);
                  });
}

absl::StatusOr<std::unique_ptr<ProcessSession>> OpenLogs(Services& services,
                                                         const rt::LogsRequest& request) {
  absl::StatusOr<rt::Runtime::Stub*> runtime = services.runtime();
  if (!runtime.ok()) return runtime.status();
  auto context = std::make_unique<grpc::ClientContext>();
  auto reader = (*runtime)->Logs(context.get(), request);
  return std::make_unique<LogsSession>(services, request.container(), std::move(context),
                                       std::move(reader));
}

}  // namespace strata::gateway::internal
