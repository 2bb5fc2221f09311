#include "cli/service/gateway_service.h"

#include <memory>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "lib/rpc/server_streams.h"
#include "lib/rpc/status.h"

namespace strata::gateway {
namespace {

using rpc::ToGrpc;

// Sends the core's progress as Response{progress}: byte counts at most ten a second per layer,
// every change of state. The core may report from a thread of its own (commit's ticker): writes are
// serialized, and the handler writes its result only once the core returned.
template <typename Response>
class StreamProgress : public ProgressObserver {
 public:
  explicit StreamProgress(grpc::internal::WriterInterface<Response>* writer) : writer_(writer) {}

  // Only byte counts part-way (0 < current < total, or no total) are rate-limited, per action
  // and id: every
  // state change ("Already exists", "Pull complete" of parallel layers) goes out.
  void OnProgress(const v1::Progress& progress) override {
    absl::MutexLock lock(&mu_);
    const absl::Time now = absl::Now();
    if (progress.current() > 0 &&
        (progress.total() == 0 || progress.current() < progress.total())) {
      absl::Time& last = last_sent_[absl::StrCat(progress.action(), "\n", progress.id())];
      if (now - last < absl::Milliseconds(100)) return;
      last = now;
    }
    Response response;
    *response.mutable_progress() = progress;
    (void)writer_->Write(response);  // a client gone shows when the result is written
  }

 private:
  grpc::internal::WriterInterface<Response>* writer_;
  absl::Mutex mu_;
  // By action and id: when the last part-way count went out.
  absl::flat_hash_map<std::string, absl::Time> last_sent_ ABSL_GUARDED_BY(mu_);
};

// The tarball of an ImportImage call: the data of every message after the options.
class ImportSource : public layer::ByteSource {
 public:
  explicit ImportSource(grpc::internal::ReaderInterface<v1::ImportImageRequest>* stream)
      : stream_(stream) {}
  absl::StatusOr<absl::string_view> Read() override {
    while (stream_->Read(&request_)) {
      if (request_.has_options()) {
        return absl::InvalidArgumentError("ImportImage: options may only come first");
      }
      if (!request_.data().empty()) return absl::string_view(request_.data());
    }
    return absl::string_view();
  }

 private:
  grpc::internal::ReaderInterface<v1::ImportImageRequest>* stream_;
  v1::ImportImageRequest request_;
};

// The archive of a LoadImages call: the data of every message after the options.
class LoadSource : public layer::ByteSource {
 public:
  explicit LoadSource(grpc::internal::ReaderInterface<v1::LoadRequest>* stream) : stream_(stream) {}
  absl::StatusOr<absl::string_view> Read() override {
    while (stream_->Read(&request_)) {
      if (request_.has_options()) {
        return absl::InvalidArgumentError("LoadImages: options may only come first");
      }
      if (!request_.data().empty()) return absl::string_view(request_.data());
    }
    return absl::string_view();
  }

 private:
  grpc::internal::ReaderInterface<v1::LoadRequest>* stream_;
  v1::LoadRequest request_;
};

// Feeds a bidirectional call's requests (stdin, its end, resizes) to a session; a client
// that goes away cancels it. Request is AttachRequest, ExecRequest or RunRequest.
template <typename Request>
std::unique_ptr<rpc::InputPump<Request>> PumpInto(grpc::ServerContext* context,
                                                  grpc::internal::ReaderInterface<Request>* stream,
                                                  ProcessSession* session) {
  return std::make_unique<rpc::InputPump<Request>>(
      context, stream,
      [session](const Request& request) {
        switch (request.msg_case()) {
          case Request::kStdin:
            (void)session->SendStdin(request.stdin());
            break;
          case Request::kCloseStdin:
            (void)session->CloseStdin();
            break;
          case Request::kResize:
            (void)session->Resize(request.resize().rows(), request.resize().cols());
            break;
          default:
            break;
        }
      },
      [session] { session->Cancel(); });
}

// Writes a session's output until its exit status (or its end); wrap turns a ProcessOutput
// into the call's response message.
template <typename Response, typename Wrap>
absl::Status Relay(ProcessSession* session, grpc::internal::WriterInterface<Response>* writer,
                   Wrap wrap) {
  for (;;) {
    ASSIGN_OR_RETURN(std::optional<rt::ProcessOutput> output, session->Next());
    if (!output.has_value()) return absl::OkStatus();
    const bool exited = output->has_exit();
    if (!writer->Write(wrap(std::move(*output)))) {
      return absl::CancelledError("the client went away");
    }
    if (exited) return absl::OkStatus();
  }
}

rt::ProcessOutput Same(rt::ProcessOutput output) { return output; }

// Attach and Exec: open with the first message's options, then pump and relay.
template <typename Request, typename Open>
grpc::Status RelayBidi(grpc::ServerContext* context,
                       grpc::ServerReaderWriter<rt::ProcessOutput, Request>* stream,
                       const char* rpc_name, Open open) {
  Request first;
  if (!stream->Read(&first) || !first.has_options()) {
    return ToGrpc(absl::InvalidArgumentError(
        absl::StrCat("the first message of ", rpc_name, " must carry options")));
  }
  absl::StatusOr<std::unique_ptr<ProcessSession>> session = open(first.options());
  if (!session.ok()) return ToGrpc(session.status());
  auto pump = PumpInto<Request>(context, stream, session->get());
  absl::Status status = Relay(session->get(), stream, Same);
  pump->Finish(context);
  return ToGrpc(status);
}

}  // namespace

grpc::Status GatewayService::ImportImage(
    grpc::ServerContext*,
    grpc::ServerReaderWriter<v1::ImportImageResponse, v1::ImportImageRequest>* stream) {
  v1::ImportImageRequest first;
  if (!stream->Read(&first) || !first.has_options()) {
    return ToGrpc(
        absl::InvalidArgumentError("the first message of ImportImage must carry options"));
  }
  ImportSource source(stream);
  StreamProgress<v1::ImportImageResponse> progress(stream);
  absl::StatusOr<ig::Image> image = gateway_->ImportImage(first.options(), &source, &progress);
  if (!image.ok()) return ToGrpc(image.status());
  v1::ImportImageResponse last;
  *last.mutable_image() = std::move(*image);
  stream->Write(last);
  return grpc::Status::OK;
}

grpc::Status GatewayService::Commit(grpc::ServerContext*, const v1::CommitRequest* request,
                                    grpc::ServerWriter<v1::CommitResponse>* writer) {
  StreamProgress<v1::CommitResponse> progress(writer);
  absl::StatusOr<ig::Image> image = gateway_->Commit(*request, &progress);
  if (!image.ok()) return ToGrpc(image.status());
  v1::CommitResponse last;
  *last.mutable_image() = std::move(*image);
  writer->Write(last);
  return grpc::Status::OK;
}

grpc::Status GatewayService::Pull(grpc::ServerContext*, const v1::PullRequest* request,
                                  grpc::ServerWriter<v1::PullResponse>* writer) {
  StreamProgress<v1::PullResponse> progress(writer);
  absl::StatusOr<v1::PullResult> result = gateway_->Pull(*request, &progress);
  if (!result.ok()) return ToGrpc(result.status());
  v1::PullResponse last;
  *last.mutable_result() = std::move(*result);
  writer->Write(last);
  return grpc::Status::OK;
}

grpc::Status GatewayService::Push(grpc::ServerContext*, const v1::PushRequest* request,
                                  grpc::ServerWriter<v1::PushResponse>* writer) {
  StreamProgress<v1::PushResponse> progress(writer);
  absl::StatusOr<v1::PushResult> result = gateway_->Push(*request, &progress);
  if (!result.ok()) return ToGrpc(result.status());
  v1::PushResponse last;
  *last.mutable_result() = std::move(*result);
  writer->Write(last);
  return grpc::Status::OK;
}

grpc::Status GatewayService::Login(grpc::ServerContext*, const v1::LoginRequest* request,
                                   v1::LoginResponse* response) {
  absl::Status status = gateway_->Login(*request);
  if (!status.ok()) return ToGrpc(status);
  response->set_status("Login Succeeded");
  return grpc::Status::OK;
}

grpc::Status GatewayService::SaveImages(grpc::ServerContext* context,
                                        const v1::SaveRequest* request,
                                        grpc::ServerWriter<v1::SaveResponse>* writer) {
  if (request->format() == "oci-dir") {
    return ToGrpc(absl::InvalidArgumentError(
        "SaveImages: oci-dir is a directory on the client's machine: save an oci-archive and "
        "unpack it there"));
  }
  rpc::ChunkSink<v1::SaveResponse> sink(context, writer);
  // Progress goes between data messages, on this same thread.
  StreamProgress<v1::SaveResponse> progress(writer);
  absl::Status status = gateway_->Save(*request, &sink, &progress);
  if (status.ok()) status = sink.Flush();
  return ToGrpc(status);
}

grpc::Status GatewayService::LoadImages(
    grpc::ServerContext*, grpc::ServerReaderWriter<v1::LoadResponse, v1::LoadRequest>* stream) {
  v1::LoadRequest first;
  if (!stream->Read(&first) || !first.has_options()) {
    return ToGrpc(absl::InvalidArgumentError("the first message of LoadImages must carry options"));
  }
  LoadSource source(stream);
  StreamProgress<v1::LoadResponse> progress(stream);
  absl::StatusOr<v1::LoadResult> result = gateway_->Load(first.options(), &source, &progress);
  if (!result.ok()) return ToGrpc(result.status());
  v1::LoadResponse last;
  *last.mutable_result() = std::move(*result);
  stream->Write(last);
  return grpc::Status::OK;
}

grpc::Status GatewayService::ListImages(grpc::ServerContext*, const ig::ListImagesRequest* request,
                                        ig::ListImagesResponse* response) {
  absl::StatusOr<ig::ListImagesResponse> page = gateway_->ListImages(*request);
  if (!page.ok()) return ToGrpc(page.status());
  *response = std::move(*page);
  return grpc::Status::OK;
}

grpc::Status GatewayService::InspectImage(grpc::ServerContext*, const ig::GetImageRequest* request,
                                          ig::GetImageResponse* response) {
  absl::StatusOr<ig::Image> image = gateway_->InspectImage(request->ref());
  if (!image.ok()) return ToGrpc(image.status());
  *response->mutable_image() = std::move(*image);
  return grpc::Status::OK;
}

grpc::Status GatewayService::TagImage(grpc::ServerContext*, const ig::TagRequest* request,
                                      ig::TagResponse* response) {
  absl::StatusOr<ig::TagResponse> tagged = gateway_->TagImage(*request);
  if (!tagged.ok()) return ToGrpc(tagged.status());
  *response = std::move(*tagged);
  return grpc::Status::OK;
}

grpc::Status GatewayService::DiskUsage(grpc::ServerContext*, const gw::DiskUsageRequest* request,
                                       gw::DiskUsageResult* response) {
  absl::StatusOr<gw::DiskUsageResult> usage = gateway_->DiskUsage(*request);
  if (!usage.ok()) return ToGrpc(usage.status());
  *response = std::move(*usage);
  return grpc::Status::OK;
}

grpc::Status GatewayService::PruneImages(grpc::ServerContext*,
                                         const gw::PruneImagesRequest* request,
                                         gw::PruneResult* response) {
  absl::StatusOr<gw::PruneResult> pruned = gateway_->PruneImages(*request);
  if (!pruned.ok()) return ToGrpc(pruned.status());
  *response = std::move(*pruned);
  return grpc::Status::OK;
}

grpc::Status GatewayService::PruneContainers(grpc::ServerContext*,
                                             const gw::PruneContainersRequest* /*request*/,
                                             gw::PruneResult* response) {
  absl::StatusOr<gw::PruneResult> pruned = gateway_->PruneContainers();
  if (!pruned.ok()) return ToGrpc(pruned.status());
  *response = std::move(*pruned);
  return grpc::Status::OK;
}

grpc::Status GatewayService::PruneSystem(grpc::ServerContext*,
                                         const gw::PruneImagesRequest* request,
                                         gw::PruneResult* response) {
  absl::StatusOr<gw::PruneResult> pruned = gateway_->PruneSystem(*request);
  if (!pruned.ok()) return ToGrpc(pruned.status());
  *response = std::move(*pruned);
  return grpc::Status::OK;
}

grpc::Status GatewayService::RemoveImage(grpc::ServerContext*,
                                         const ig::DeleteImageRequest* request,
                                         ig::DeleteImageResponse* response) {
  absl::StatusOr<ig::DeleteImageResponse> removed = gateway_->RemoveImage(*request);
  if (!removed.ok()) return ToGrpc(removed.status());
  *response = std::move(*removed);
  return grpc::Status::OK;
}

grpc::Status GatewayService::History(grpc::ServerContext*, const ig::HistoryRequest* request,
                                     ig::HistoryResponse* response) {
  absl::StatusOr<ig::HistoryResponse> history = gateway_->History(request->ref());
  if (!history.ok()) return ToGrpc(history.status());
  *response = std::move(*history);
  return grpc::Status::OK;
}

grpc::Status GatewayService::CreateContainer(grpc::ServerContext*,
                                             const v1::CreateContainerRequest* request,
                                             rt::CreateContainerResponse* response) {
  absl::StatusOr<rt::Container> container = gateway_->CreateContainer(*request);
  if (!container.ok()) return ToGrpc(container.status());
  *response->mutable_container() = std::move(*container);
  return grpc::Status::OK;
}

grpc::Status GatewayService::StartContainer(grpc::ServerContext*,
                                            const rt::StartContainerRequest* request,
                                            rt::StartContainerResponse* response) {
  absl::StatusOr<rt::StartContainerResponse> started = gateway_->StartContainer(*request);
  if (!started.ok()) return ToGrpc(started.status());
  *response = std::move(*started);
  return grpc::Status::OK;
}

grpc::Status GatewayService::Run(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<v1::RunResponse, v1::RunRequest>* stream) {
  v1::RunRequest first;
  if (!stream->Read(&first) || !first.has_options()) {
    return ToGrpc(absl::InvalidArgumentError("the first message of Run must carry options"));
  }
  absl::StatusOr<RunResult> run = gateway_->Run(first.options());
  if (!run.ok()) return ToGrpc(run.status());
  v1::RunResponse started;
  *started.mutable_container() = run->container;
  if (!stream->Write(started)) return ToGrpc(absl::CancelledError("the client went away"));
  if (run->session == nullptr) return grpc::Status::OK;
  auto pump = PumpInto<v1::RunRequest>(context, stream, run->session.get());
  absl::Status status = Relay(run->session.get(), stream, [](rt::ProcessOutput output) {
    v1::RunResponse response;
    *response.mutable_output() = std::move(output);
    return response;
  });
  pump->Finish(context);
  // With remove, the session's end removes the container.
  run->session.reset();
  return ToGrpc(status);
}

grpc::Status GatewayService::Attach(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<rt::ProcessOutput, rt::AttachRequest>* stream) {
  return RelayBidi(context, stream, "Attach",
                   [this](const rt::AttachOptions& options) { return gateway_->Attach(options); });
}

grpc::Status GatewayService::Exec(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<rt::ProcessOutput, rt::ExecRequest>* stream) {
  return RelayBidi(context, stream, "Exec",
                   [this](const rt::ExecOptions& options) { return gateway_->Exec(options); });
}

grpc::Status GatewayService::Logs(grpc::ServerContext* context, const rt::LogsRequest* request,
                                  grpc::ServerWriter<rt::ProcessOutput>* writer) {
  absl::StatusOr<std::unique_ptr<ProcessSession>> session = gateway_->Logs(*request);
  if (!session.ok()) return ToGrpc(session.status());
  ProcessSession* raw = session->get();
  rpc::CancelWatch watch(context, [raw] { raw->Cancel(); });
  return ToGrpc(Relay(raw, writer, Same));
}

grpc::Status GatewayService::StopContainer(grpc::ServerContext*, const rt::StopRequest* request,
                                           rt::StopResponse* response) {
  absl::StatusOr<rt::Container> container = gateway_->StopContainer(*request);
  if (!container.ok()) return ToGrpc(container.status());
  *response->mutable_container() = std::move(*container);
  return grpc::Status::OK;
}

grpc::Status GatewayService::CopyTo(grpc::ServerContext*,
                                    grpc::ServerReader<rt::CopyToRequest>* reader,
                                    rt::CopyToResponse*) {
  rt::CopyToRequest first;
  if (!reader->Read(&first) || !first.has_options()) {
    return ToGrpc(absl::InvalidArgumentError("the first message of CopyTo must carry options"));
  }
  // The client's tar, passed through as it arrives.
  return ToGrpc(gateway_->CopyTo(first.options(), [reader](layer::ByteSink* sink) {
    rt::CopyToRequest request;
    while (reader->Read(&request)) {
      if (request.has_options()) {
        return absl::InvalidArgumentError("CopyTo: options after the first message");
      }
      RETURN_IF_ERROR(sink->Write(request.data()));
    }
    return absl::OkStatus();
  }));
}

grpc::Status GatewayService::RestartContainer(grpc::ServerContext*,
                                              const rt::StopRequest* request,
                                              rt::StopResponse* response) {
  absl::StatusOr<rt::Container> container = gateway_->RestartContainer(*request);
  if (!container.ok()) return ToGrpc(container.status());
  *response->mutable_container() = std::move(*container);
  return grpc::Status::OK;
}

grpc::Status GatewayService::RenameContainer(grpc::ServerContext*,
                                             const rt::RenameRequest* request,
                                             rt::RenameResponse*) {
  return ToGrpc(gateway_->RenameContainer(*request));
}

grpc::Status GatewayService::TopContainer(grpc::ServerContext*, const rt::TopRequest* request,
                                          rt::TopResponse* response) {
  absl::StatusOr<rt::TopResponse> top = gateway_->TopContainer(*request);
  if (!top.ok()) return ToGrpc(top.status());
  *response = std::move(*top);
  return grpc::Status::OK;
}

grpc::Status GatewayService::KillContainer(grpc::ServerContext*, const rt::KillRequest* request,
                                           rt::KillResponse*) {
  return ToGrpc(gateway_->KillContainer(*request));
}

grpc::Status GatewayService::PauseContainer(grpc::ServerContext*, const rt::PauseRequest* request,
                                            rt::PauseResponse*) {
  return ToGrpc(gateway_->PauseContainer(request->container()));
}

grpc::Status GatewayService::UnpauseContainer(grpc::ServerContext*,
                                              const rt::UnpauseRequest* request,
                                              rt::UnpauseResponse*) {
  return ToGrpc(gateway_->UnpauseContainer(request->container()));
}

grpc::Status GatewayService::WaitContainer(grpc::ServerContext* context,
                                           const rt::WaitRequest* request,
                                           rt::WaitResponse* response) {
  const absl::Time deadline = context->deadline() == std::chrono::system_clock::time_point::max()
                                  ? absl::InfiniteFuture()
                                  : absl::FromChrono(context->deadline());
  absl::StatusOr<rt::ExitStatus> status = gateway_->WaitContainer(request->container(), deadline);
  if (!status.ok()) return ToGrpc(status.status());
  *response->mutable_status() = std::move(*status);
  return grpc::Status::OK;
}

grpc::Status GatewayService::RemoveContainer(grpc::ServerContext*, const rt::RemoveRequest* request,
                                             rt::RemoveResponse* response) {
  absl::StatusOr<std::string> id = gateway_->RemoveContainer(*request);
  if (!id.ok()) return ToGrpc(id.status());
  response->set_id(*id);
  return grpc::Status::OK;
}

grpc::Status GatewayService::ListContainers(grpc::ServerContext*, const rt::ListRequest* request,
                                            rt::ListResponse* response) {
  absl::StatusOr<std::vector<rt::Container>> containers = gateway_->ListContainers(request->all());
  if (!containers.ok()) return ToGrpc(containers.status());
  for (rt::Container& container : *containers) *response->add_containers() = std::move(container);
  return grpc::Status::OK;
}

grpc::Status GatewayService::InspectContainer(grpc::ServerContext*,
                                              const rt::InspectRequest* request,
                                              rt::InspectResponse* response) {
  absl::StatusOr<rt::Container> container = gateway_->InspectContainer(request->container());
  if (!container.ok()) return ToGrpc(container.status());
  *response->mutable_container() = std::move(*container);
  return grpc::Status::OK;
}

grpc::Status GatewayService::Diff(grpc::ServerContext*, const rt::DiffRequest* request,
                                  grpc::ServerWriter<rt::DiffResponse>* writer) {
  rt::DiffResponse batch;
  auto flush = [&]() -> absl::Status {
    if (batch.changes_size() == 0) return absl::OkStatus();
    if (!writer->Write(batch)) return absl::CancelledError("the client went away");
    batch.Clear();
    return absl::OkStatus();
  };
  absl::Status status = gateway_->Diff(request->container(), [&](const rt::Change& change) {
    *batch.add_changes() = change;
    return batch.changes_size() == 1000 ? flush() : absl::OkStatus();
  });
  if (status.ok()) status = flush();
  return ToGrpc(status);
}

grpc::Status GatewayService::Export(grpc::ServerContext* context, const rt::ExportRequest* request,
                                    grpc::ServerWriter<rt::DataChunk>* writer) {
  rpc::ChunkSink<rt::DataChunk> sink(context, writer);
  absl::Status status = gateway_->Export(request->container(), &sink);
  if (status.ok()) status = sink.Flush();
  return ToGrpc(status);
}

grpc::Status GatewayService::CopyFrom(grpc::ServerContext* context,
                                      const rt::CopyFromRequest* request,
                                      grpc::ServerWriter<rt::CopyFromResponse>* writer) {
  rpc::ChunkSink<rt::CopyFromResponse> sink(context, writer);
  absl::Status status = gateway_->CopyFrom(
      *request,
      [writer](const rt::PathStat& stat) -> absl::Status {
        rt::CopyFromResponse first;
        *first.mutable_stat() = stat;
        if (!writer->Write(first)) return absl::CancelledError("the client went away");
        return absl::OkStatus();
      },
      &sink);
  if (status.ok()) status = sink.Flush();
  return ToGrpc(status);
}

grpc::Status GatewayService::CheckSystem(grpc::ServerContext*,
                                         const v1::CheckSystemRequest* /*request*/,
                                         grpc::ServerWriter<v1::CheckSystemResponse>* writer) {
  StreamProgress<v1::CheckSystemResponse> progress(writer);
  absl::StatusOr<v1::CheckSystemResult> result = gateway_->CheckSystem(&progress);
  if (!result.ok()) return ToGrpc(result.status());
  v1::CheckSystemResponse last;
  *last.mutable_result() = std::move(*result);
  writer->Write(last);
  return grpc::Status::OK;
}

}  // namespace strata::gateway
