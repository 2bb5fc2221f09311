#include "services/runtime/runtime_service.h"

#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "google/protobuf/util/time_util.h"
#include "lib/base/errors.h"
#include "lib/rpc/limits.h"
#include "lib/rpc/status.h"

namespace strata::runtime {
namespace {

using google::protobuf::Timestamp;

void SetTime(absl::Time time, Timestamp* out) {
  if (time == absl::InfinitePast()) return;
  const int64_t nanos = absl::ToUnixNanos(time);
  out->set_seconds(nanos / 1000000000);
  out->set_nanos(static_cast<int32_t>(nanos % 1000000000));
}

RunSpec FromProto(const v1::RunConfig& config) {
  RunSpec spec;
  spec.entrypoint.assign(config.entrypoint().begin(), config.entrypoint().end());
  spec.cmd.assign(config.cmd().begin(), config.cmd().end());
  spec.env.assign(config.env().begin(), config.env().end());
  spec.working_dir = config.working_dir();
  spec.user = config.user();
  spec.stop_signal = config.stop_signal();
  spec.labels.insert(config.labels().begin(), config.labels().end());
  return spec;
}

void ToProto(const RunSpec& spec, v1::RunConfig* out) {
  for (const auto& value : spec.entrypoint) out->add_entrypoint(value);
  for (const auto& value : spec.cmd) out->add_cmd(value);
  for (const auto& value : spec.env) out->add_env(value);
  out->set_working_dir(spec.working_dir);
  out->set_user(spec.user);
  out->set_stop_signal(spec.stop_signal);
  out->mutable_labels()->insert(spec.labels.begin(), spec.labels.end());
}

void ToProto(const ImageLayer& layer, types::v1::LayerDescriptor* out) {
  out->set_digest(layer.digest.str());
  out->set_diff_id(layer.diff_id.str());
  out->set_media_type(layer.media_type);
  out->set_size(layer.size);
  out->set_uncompressed_size(layer.uncompressed_size);
}

v1::ContainerState ToProto(ContainerState state) {
  switch (state) {
    case ContainerState::kCreated:
      return v1::CREATED;
    case ContainerState::kRunning:
      return v1::RUNNING;
    case ContainerState::kPaused:
      return v1::PAUSED;
    case ContainerState::kExited:
      return v1::EXITED;
  }
  return v1::CONTAINER_STATE_UNSPECIFIED;
}

void ToProto(const ContainerRecord& record, const std::string& rootfs, v1::Container* out) {
  out->set_id(record.id);
  out->set_name(record.name);
  out->set_image_id(record.image_id);
  out->set_image_ref(record.image_ref);
  out->set_state(ToProto(record.state));
  SetTime(record.created, out->mutable_created());
  SetTime(record.started, out->mutable_started());
  SetTime(record.finished, out->mutable_finished());
  out->set_exit_code(record.exit_code);
  out->set_pid(record.pid);
  ToProto(record.spec, out->mutable_config());
  for (const auto& arg : record.args) out->add_args(arg);
  out->set_tty(record.tty);
  out->set_open_stdin(record.open_stdin);
  out->set_network(record.network);
  out->set_hostname(record.hostname);
  for (const LayerRef& layer : record.layers) {
    ToProto(ImageLayer{layer.digest, layer.diff_id, layer.media_type, layer.size,
                       layer.uncompressed_size},
            out->add_layers());
  }
  out->set_rootfs(rootfs);
  out->set_error(record.error);
}

void ToProto(const ContainerRecord& record, v1::Container* out) { ToProto(record, "", out); }

absl::StatusOr<ImageLayer> FromProto(const types::v1::LayerDescriptor& descriptor) {
  ImageLayer layer;
  absl::StatusOr<Digest> digest = Digest::Parse(descriptor.digest());
  if (!digest.ok()) return digest.status();
  absl::StatusOr<Digest> diff_id = Digest::Parse(descriptor.diff_id());
  if (!diff_id.ok()) return diff_id.status();
  if (descriptor.size() < 0 || descriptor.uncompressed_size() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("layer ", descriptor.digest(), ": negative size"));
  }
  layer.digest = *digest;
  layer.diff_id = *diff_id;
  layer.media_type = descriptor.media_type();
  layer.size = descriptor.size();
  layer.uncompressed_size = descriptor.uncompressed_size();
  return layer;
}

// Converts a process frame into the message a client sees; false for frames it never sees.
bool ToOutput(const Frame& frame, v1::ProcessOutput* out) {
  switch (frame.type) {
    case FrameType::kStdout:
      out->set_stdout(frame.payload);
      return true;
    case FrameType::kStderr:
      out->set_stderr(frame.payload);
      return true;
    case FrameType::kExit: {
      int32_t code = 0;
      int64_t finished = 0;
      DecodeExit(frame.payload, &code, &finished);
      out->mutable_exit()->set_exit_code(code);
      if (finished > 0) SetTime(absl::FromUnixNanos(finished), out->mutable_exit()->mutable_finished());
      return true;
    }
    default:
      return false;
  }
}

// Relays a process's frames to a gRPC writer until the exit frame, the end, or a failed write.
template <typename Writer>
absl::Status RelayOutput(ProcessStream* process, Writer* writer) {
  for (;;) {
    absl::StatusOr<std::optional<Frame>> frame = process->Next();
    if (!frame.ok()) return frame.status();
    if (!frame->has_value()) return absl::OkStatus();
    v1::ProcessOutput output;
    if (!ToOutput(**frame, &output)) continue;
    if (!writer->Write(output)) return absl::CancelledError("the client went away");
    if ((**frame).type == FrameType::kExit) return absl::OkStatus();
  }
}

// Reads a bidirectional stream's requests (stdin, its end, resizes) on a thread of its own,
// for as long as the client sends; a client that goes away cancels the process stream.
template <typename Stream, typename Request>
class InputPump {
 public:
  InputPump(grpc::ServerContext* context, Stream* stream, ProcessStream* process)
      : thread_([this, context, stream, process] {
          Request request;
          while (stream->Read(&request)) {
            switch (request.msg_case()) {
              case Request::kStdin:
                (void)process->SendStdin(request.stdin());
                break;
              case Request::kCloseStdin:
                (void)process->CloseStdin();
                break;
              case Request::kResize:
                (void)process->Resize(
                    {static_cast<uint16_t>(request.resize().rows()),
                     static_cast<uint16_t>(request.resize().cols())});
                break;
              default:
                break;
            }
          }
          if (context->IsCancelled()) process->Cancel();
          finished_.Notify();
        }) {}

  // Lets a well-behaved client half-close, then cancels the call so the reader ends.
  void Finish(grpc::ServerContext* context) {
    if (!finished_.WaitForNotificationWithTimeout(absl::Seconds(5))) context->TryCancel();
    thread_.join();
  }

 private:
  absl::Notification finished_;
  std::thread thread_;
};

// Cancels a process stream when the client of a server-streaming call goes away.
class CancelWatch {
 public:
  CancelWatch(grpc::ServerContext* context, ProcessStream* process)
      : thread_([this, context, process] {
          while (!done_.WaitForNotificationWithTimeout(absl::Milliseconds(200))) {
            if (context->IsCancelled()) {
              process->Cancel();
              return;
            }
          }
        }) {}
  ~CancelWatch() {
    done_.Notify();
    thread_.join();
  }

 private:
  absl::Notification done_;
  std::thread thread_;
};

// Streams bytes to a client as DataChunk-like messages of at most kChunkSize.
template <typename Message>
class ChunkSink : public layer::ByteSink {
 public:
  ChunkSink(grpc::ServerContext* context, grpc::ServerWriter<Message>* writer)
      : context_(context), writer_(writer) {}

  absl::Status Write(absl::string_view data) override {
    while (!data.empty()) {
      if (context_->IsCancelled()) return absl::CancelledError("the client went away");
      const size_t room = rpc::kChunkSize - pending_.size();
      const size_t n = std::min(room, data.size());
      pending_.append(data.data(), n);
      data.remove_prefix(n);
      if (pending_.size() == rpc::kChunkSize) RETURN_IF_ERROR(Flush());
    }
    return absl::OkStatus();
  }

  absl::Status Flush() {
    if (pending_.empty()) return absl::OkStatus();
    Message message;
    message.set_data(std::move(pending_));
    pending_.clear();
    if (!writer_->Write(message)) return absl::CancelledError("the client went away");
    return absl::OkStatus();
  }

 private:
  grpc::ServerContext* context_;
  grpc::ServerWriter<Message>* writer_;
  std::string pending_;
};

}  // namespace

grpc::Status RuntimeService::CreateContainer(grpc::ServerContext*,
                                             const v1::CreateContainerRequest* request,
                                             v1::CreateContainerResponse* response) {
  CreateSpec spec;
  spec.name = request->name();
  spec.image_id = request->image_id();
  spec.image_ref = request->image_ref();
  for (const auto& descriptor : request->layers()) {
    absl::StatusOr<ImageLayer> layer = FromProto(descriptor);
    if (!layer.ok()) return rpc::ToGrpc(layer.status());
    spec.layers.push_back(*layer);
  }
  spec.image_spec = FromProto(request->image_config());
  if (request->has_entrypoint()) {
    spec.overrides.entrypoint = std::vector<std::string>(request->entrypoint().values().begin(),
                                                         request->entrypoint().values().end());
  }
  spec.overrides.cmd.assign(request->cmd().begin(), request->cmd().end());
  spec.overrides.env.assign(request->env().begin(), request->env().end());
  spec.overrides.working_dir = request->working_dir();
  spec.overrides.user = request->user();
  spec.overrides.labels.insert(request->labels().begin(), request->labels().end());
  spec.tty = request->tty();
  spec.open_stdin = request->open_stdin();
  spec.network = request->network();
  spec.hostname = request->hostname();
  absl::StatusOr<ContainerRecord> record = runtime_->Create(spec);
  if (!record.ok()) return rpc::ToGrpc(record.status());
  ToProto(*record, response->mutable_container());
  return grpc::Status::OK;
}

grpc::Status RuntimeService::StartContainer(grpc::ServerContext*,
                                            const v1::StartContainerRequest* request,
                                            v1::StartContainerResponse* response) {
  TerminalSize size{static_cast<uint16_t>(request->console_size().rows()),
                    static_cast<uint16_t>(request->console_size().cols())};
  absl::StatusOr<StartResult> result = runtime_->Start(request->container(), size);
  if (!result.ok()) return rpc::ToGrpc(result.status());
  ToProto(result->record, response->mutable_container());
  response->set_log_offset(result->log_offset);
  return grpc::Status::OK;
}

grpc::Status RuntimeService::Attach(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<v1::ProcessOutput, v1::AttachRequest>* stream) {
  v1::AttachRequest first;
  if (!stream->Read(&first) || !first.has_options()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "the first message of Attach must carry options");
  }
  const v1::AttachOptions& options = first.options();
  std::optional<int64_t> offset;
  if (options.has_log_offset()) {
    if (options.log_offset() < 0) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "negative log offset");
    }
    offset = options.log_offset();
  }
  absl::StatusOr<std::unique_ptr<ProcessStream>> process =
      runtime_->Attach(options.container(), options.stdin(), offset);
  if (!process.ok()) return rpc::ToGrpc(process.status());
  InputPump<grpc::ServerReaderWriter<v1::ProcessOutput, v1::AttachRequest>, v1::AttachRequest>
      pump(context, stream, process->get());
  absl::Status status = RelayOutput(process->get(), stream);
  pump.Finish(context);
  return rpc::ToGrpc(status);
}

grpc::Status RuntimeService::Exec(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<v1::ProcessOutput, v1::ExecRequest>* stream) {
  v1::ExecRequest first;
  if (!stream->Read(&first) || !first.has_options()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "the first message of Exec must carry options");
  }
  const v1::ExecOptions& options = first.options();
  ExecSpec spec;
  spec.args.assign(options.args().begin(), options.args().end());
  spec.env.assign(options.env().begin(), options.env().end());
  spec.working_dir = options.working_dir();
  spec.user = options.user();
  spec.tty = options.tty();
  spec.stdin = options.stdin();
  spec.size = {static_cast<uint16_t>(options.size().rows()),
               static_cast<uint16_t>(options.size().cols())};
  absl::StatusOr<std::unique_ptr<ProcessStream>> process =
      runtime_->Exec(options.container(), spec);
  if (!process.ok()) return rpc::ToGrpc(process.status());
  InputPump<grpc::ServerReaderWriter<v1::ProcessOutput, v1::ExecRequest>, v1::ExecRequest> pump(
      context, stream, process->get());
  absl::Status status = RelayOutput(process->get(), stream);
  pump.Finish(context);
  return rpc::ToGrpc(status);
}

grpc::Status RuntimeService::Wait(grpc::ServerContext* context, const v1::WaitRequest* request,
                                  v1::WaitResponse* response) {
  const absl::Time deadline = context->deadline() == std::chrono::system_clock::time_point::max()
                                  ? absl::InfiniteFuture()
                                  : absl::FromChrono(context->deadline());
  // In slices, so a client that gives up (or a server shutting down) frees this thread.
  absl::StatusOr<ExitInfo> info;
  for (;;) {
    const absl::Time slice = std::min(deadline, absl::Now() + absl::Milliseconds(250));
    info = runtime_->Wait(request->container(), slice);
    if (info.ok() || !absl::IsDeadlineExceeded(info.status()) || slice == deadline) break;
    if (context->IsCancelled()) {
      return grpc::Status(grpc::StatusCode::CANCELLED, "the client went away");
    }
  }
  if (!info.ok()) return rpc::ToGrpc(info.status());
  response->mutable_status()->set_exit_code(info->exit_code);
  SetTime(info->finished, response->mutable_status()->mutable_finished());
  response->mutable_status()->set_error(info->error);
  return grpc::Status::OK;
}

grpc::Status RuntimeService::Stop(grpc::ServerContext*, const v1::StopRequest* request,
                                  v1::StopResponse* response) {
  const int timeout = request->has_timeout_seconds() ? request->timeout_seconds() : 10;
  if (timeout < 0) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "negative stop timeout");
  }
  absl::StatusOr<ContainerRecord> record =
      runtime_->Stop(request->container(), absl::Seconds(timeout));
  if (!record.ok()) return rpc::ToGrpc(record.status());
  ToProto(*record, response->mutable_container());
  return grpc::Status::OK;
}

grpc::Status RuntimeService::Kill(grpc::ServerContext*, const v1::KillRequest* request,
                                  v1::KillResponse*) {
  return rpc::ToGrpc(runtime_->Kill(request->container(), request->signal()));
}

grpc::Status RuntimeService::Pause(grpc::ServerContext*, const v1::PauseRequest* request,
                                   v1::PauseResponse*) {
  return rpc::ToGrpc(runtime_->Pause(request->container()));
}

grpc::Status RuntimeService::Unpause(grpc::ServerContext*, const v1::UnpauseRequest* request,
                                     v1::UnpauseResponse*) {
  return rpc::ToGrpc(runtime_->Unpause(request->container()));
}

grpc::Status RuntimeService::Remove(grpc::ServerContext*, const v1::RemoveRequest* request,
                                    v1::RemoveResponse* response) {
  absl::StatusOr<std::string> id = runtime_->Remove(request->container(), request->force());
  if (!id.ok()) return rpc::ToGrpc(id.status());
  response->set_id(*id);
  return grpc::Status::OK;
}

grpc::Status RuntimeService::List(grpc::ServerContext*, const v1::ListRequest* request,
                                  v1::ListResponse* response) {
  for (const ContainerRecord& record : runtime_->List(request->all())) {
    ToProto(record, response->add_containers());
  }
  return grpc::Status::OK;
}

grpc::Status RuntimeService::Inspect(grpc::ServerContext*, const v1::InspectRequest* request,
                                     v1::InspectResponse* response) {
  absl::StatusOr<ContainerRecord> record = runtime_->Inspect(request->container());
  if (!record.ok()) return rpc::ToGrpc(record.status());
  ToProto(*record, runtime_->MountedRootfs(record->id), response->mutable_container());
  response->mutable_container()->set_upper_dir(runtime_->UpperDir(record->id));
  return grpc::Status::OK;
}

grpc::Status RuntimeService::Logs(grpc::ServerContext* context, const v1::LogsRequest* request,
                                  grpc::ServerWriter<v1::ProcessOutput>* writer) {
  absl::StatusOr<std::unique_ptr<ProcessStream>> process =
      runtime_->Logs(request->container(), request->follow());
  if (!process.ok()) return rpc::ToGrpc(process.status());
  CancelWatch watch(context, process->get());
  return rpc::ToGrpc(RelayOutput(process->get(), writer));
}

grpc::Status RuntimeService::Diff(grpc::ServerContext*, const v1::DiffRequest* request,
                                  grpc::ServerWriter<v1::DiffResponse>* writer) {
  absl::StatusOr<std::vector<layer::Change>> changes = runtime_->Diff(request->container());
  if (!changes.ok()) return rpc::ToGrpc(changes.status());
  v1::DiffResponse batch;
  for (const layer::Change& change : *changes) {
    v1::Change* out = batch.add_changes();
    out->set_path(change.path);
    out->set_kind(change.kind == layer::ChangeKind::kAdded     ? v1::ADDED
                  : change.kind == layer::ChangeKind::kChanged ? v1::CHANGED
                                                               : v1::DELETED);
    if (batch.changes_size() == 1000) {
      if (!writer->Write(batch)) return grpc::Status(grpc::StatusCode::CANCELLED, "client gone");
      batch.Clear();
    }
  }
  if (batch.changes_size() > 0 && !writer->Write(batch)) {
    return grpc::Status(grpc::StatusCode::CANCELLED, "client gone");
  }
  return grpc::Status::OK;
}

grpc::Status RuntimeService::Commit(grpc::ServerContext*, const v1::CommitRequest* request,
                                    v1::CommitResponse* response) {
  CommitOptions options;
  switch (request->compression()) {
    case types::v1::COMPRESSION_NONE:
      options.compression = layer::Compression::kNone;
      break;
    case types::v1::COMPRESSION_GZIP:
      options.compression = layer::Compression::kGzip;
      break;
    case types::v1::COMPRESSION_DEFAULT:
    case types::v1::COMPRESSION_ZSTD:
      options.compression = layer::Compression::kZstd;
      break;
    default:
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "unknown compression");
  }
  options.pause = request->has_pause() ? request->pause() : true;
  absl::StatusOr<CommitResult> result = runtime_->Commit(request->container(), options);
  if (!result.ok()) return rpc::ToGrpc(result.status());
  ToProto(result->layer, response->mutable_layer());
  ToProto(result->spec, response->mutable_config());
  response->set_image_id(result->image_id);
  for (const auto& arg : result->args) response->add_args(arg);
  response->set_empty(result->empty);
  return grpc::Status::OK;
}

grpc::Status RuntimeService::Export(grpc::ServerContext* context,
                                    const v1::ExportRequest* request,
                                    grpc::ServerWriter<v1::DataChunk>* writer) {
  ChunkSink<v1::DataChunk> sink(context, writer);
  absl::Status status = runtime_->Export(request->container(), &sink);
  if (status.ok()) status = sink.Flush();
  return rpc::ToGrpc(status);
}

grpc::Status RuntimeService::CopyFrom(grpc::ServerContext* context,
                                      const v1::CopyFromRequest* request,
                                      grpc::ServerWriter<v1::CopyFromResponse>* writer) {
  ChunkSink<v1::CopyFromResponse> sink(context, writer);
  auto on_info = [writer](const PathInfo& info) -> absl::Status {
    v1::CopyFromResponse first;
    v1::PathStat* stat = first.mutable_stat();
    stat->set_name(info.name);
    stat->set_size(info.size);
    stat->set_mode(info.mode);
    SetTime(info.mtime, stat->mutable_mtime());
    stat->set_link_target(info.link_target);
    if (!writer->Write(first)) return absl::CancelledError("the client went away");
    return absl::OkStatus();
  };
  absl::Status status =
      runtime_->CopyFrom(request->container(), request->path(), request->follow_link(), on_info,
                         &sink);
  if (status.ok()) status = sink.Flush();
  return rpc::ToGrpc(status);
}

}  // namespace strata::runtime
