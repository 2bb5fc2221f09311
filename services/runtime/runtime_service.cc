#include "services/runtime/runtime_service.h"

#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "google/protobuf/util/time_util.h"
#include "lib/base/errors.h"
#include "lib/rpc/limits.h"
#include "lib/rpc/server_streams.h"
#include "lib/convert/api_types.h"
#include "lib/rpc/status.h"
#include "lib/rpc/time.h"

namespace strata::runtime {
namespace {

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
  rpc::ToTimestamp(record.created, out->mutable_created());
  rpc::ToTimestamp(record.started, out->mutable_started());
  rpc::ToTimestamp(record.finished, out->mutable_finished());
  out->set_exit_code(record.exit_code);
  out->set_pid(record.pid);
  convert::ToProto(record.spec, out->mutable_config());
  for (const auto& arg : record.args) out->add_args(arg);
  out->set_tty(record.tty);
  out->set_open_stdin(record.open_stdin);
  out->set_network(record.network);
  out->set_hostname(record.hostname);
  for (const LayerRef& layer : record.layers) {
    convert::ToProto(oci::LayerDescriptor{layer.digest, layer.diff_id, layer.media_type,
                                          layer.size, layer.uncompressed_size},
                     out->add_layers());
  }
  out->set_rootfs(rootfs);
  out->set_error(record.error);
  for (const MountSpec& mount : record.mounts) {
    types::v1::Mount* out_mount = out->add_mounts();
    out_mount->set_type(mount.type);
    out_mount->set_source(mount.source);
    out_mount->set_target(mount.target);
    out_mount->set_readonly(mount.readonly);
    for (const std::string& option : mount.options) out_mount->add_options(option);
  }
}

void ToProto(const ContainerRecord& record, v1::Container* out) { ToProto(record, "", out); }

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
      if (finished > 0) {
        rpc::ToTimestamp(absl::FromUnixNanos(finished), out->mutable_exit()->mutable_finished());
      }
      return true;
    }
    default:
      return false;
  }
}

// Relays a process's frames to a gRPC writer until the exit frame, the end, or a failed write.
template <typename Writer>
absl::Status RelayOutput(ProcessStream* process, Writer* writer) {
  // When the next output was written (a kTime frame comes before each output frame).
  int64_t time = 0;
  for (;;) {
    absl::StatusOr<std::optional<Frame>> frame = process->Next();
    if (!frame.ok()) return frame.status();
    if (!frame->has_value()) return absl::OkStatus();
    if ((**frame).type == FrameType::kTime) {
      if (!DecodeTime((**frame).payload, &time)) time = 0;
      continue;
    }
    v1::ProcessOutput output;
    if (!ToOutput(**frame, &output)) continue;
    if (time > 0 && !output.has_exit()) {
      rpc::ToTimestamp(absl::FromUnixNanos(time), output.mutable_time());
      time = 0;
    }
    if (!writer->Write(output)) return absl::CancelledError("the client went away");
    if ((**frame).type == FrameType::kExit) return absl::OkStatus();
  }
}

// Feeds a bidirectional call's requests (stdin, its end, resizes) to a process stream; a
// client that goes away cancels the process stream.
template <typename Request>
std::unique_ptr<rpc::InputPump<Request>> PumpInto(grpc::ServerContext* context,
                                                  grpc::internal::ReaderInterface<Request>* stream,
                                                  ProcessStream* process) {
  return std::make_unique<rpc::InputPump<Request>>(
      context, stream,
      [process](const Request& request) {
        switch (request.msg_case()) {
          case Request::kStdin:
            (void)process->SendStdin(request.stdin());
            break;
          case Request::kCloseStdin:
            (void)process->CloseStdin();
            break;
          case Request::kResize:
            (void)process->Resize({static_cast<uint16_t>(request.resize().rows()),
                                   static_cast<uint16_t>(request.resize().cols())});
            break;
          default:
            break;
        }
      },
      [process] { process->Cancel(); });
}

// The tar bytes of a CopyTo call as a ByteSource.
class CopyToSource : public layer::ByteSource {
 public:
  explicit CopyToSource(grpc::ServerReader<v1::CopyToRequest>* reader) : reader_(reader) {}
  absl::StatusOr<absl::string_view> Read() override {
    while (reader_->Read(&request_)) {
      if (request_.has_options()) {
        return absl::InvalidArgumentError("CopyTo: options after the first message");
      }
      if (!request_.data().empty()) return absl::string_view(request_.data());
    }
    return absl::string_view();
  }

 private:
  grpc::ServerReader<v1::CopyToRequest>* reader_;
  v1::CopyToRequest request_;
};

}  // namespace

grpc::Status RuntimeService::CopyTo(grpc::ServerContext*,
                                    grpc::ServerReader<v1::CopyToRequest>* reader,
                                    v1::CopyToResponse*) {
  v1::CopyToRequest first;
  if (!reader->Read(&first) || !first.has_options()) {
    return rpc::ToGrpc(
        absl::InvalidArgumentError("the first message of CopyTo must carry options"));
  }
  const v1::CopyToOptions& options = first.options();
  CopyToSource source(reader);
  return rpc::ToGrpc(runtime_->CopyTo(options.container(),
                                      {.path = options.path(),
                                       .source_name = options.source_name(),
                                       .source_is_dir = options.source_is_dir(),
                                       .keep_owner = options.keep_owner()},
                                      &source));
}

grpc::Status RuntimeService::CreateContainer(grpc::ServerContext*,
                                             const v1::CreateContainerRequest* request,
                                             v1::CreateContainerResponse* response) {
  const types::v1::ContainerOptions& options = request->options();
  CreateSpec spec;
  spec.id = request->id();
  spec.name = options.name();
  spec.image_id = request->image_id();
  spec.image_ref = request->image_ref();
  for (const auto& descriptor : request->layers()) {
    absl::StatusOr<oci::LayerDescriptor> layer = convert::FromProto(descriptor);
    if (!layer.ok()) return rpc::ToGrpc(layer.status());
    spec.layers.push_back(*layer);
  }
  spec.image_spec = convert::FromProto(request->image_config());
  if (options.has_entrypoint()) {
    spec.overrides.entrypoint = std::vector<std::string>(options.entrypoint().values().begin(),
                                                         options.entrypoint().values().end());
  }
  spec.overrides.cmd.assign(options.cmd().begin(), options.cmd().end());
  spec.overrides.env.assign(options.env().begin(), options.env().end());
  spec.overrides.working_dir = options.working_dir();
  spec.overrides.user = options.user();
  spec.overrides.labels.insert(options.labels().begin(), options.labels().end());
  spec.tty = options.tty();
  spec.open_stdin = options.open_stdin();
  spec.network = options.network();
  spec.hostname = options.hostname();
  spec.auto_remove = options.auto_remove();
  for (const types::v1::Mount& mount : options.mounts()) {
    spec.mounts.push_back({mount.type(), mount.source(), mount.target(), mount.readonly(),
                           {mount.options().begin(), mount.options().end()},
                           mount.create_source()});
  }
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
    return rpc::ToGrpc(
        absl::InvalidArgumentError("the first message of Attach must carry options"));
  }
  const v1::AttachOptions& options = first.options();
  std::optional<int64_t> offset;
  if (options.has_log_offset()) {
    if (options.log_offset() < 0) {
      return rpc::ToGrpc(absl::InvalidArgumentError("negative log offset"));
    }
    offset = options.log_offset();
  }
  absl::StatusOr<std::unique_ptr<ProcessStream>> process =
      runtime_->Attach(options.container(), options.stdin(), offset);
  if (!process.ok()) return rpc::ToGrpc(process.status());
  auto pump = PumpInto<v1::AttachRequest>(context, stream, process->get());
  absl::Status status = RelayOutput(process->get(), stream);
  pump->Finish(context);
  return rpc::ToGrpc(status);
}

grpc::Status RuntimeService::Exec(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<v1::ProcessOutput, v1::ExecRequest>* stream) {
  v1::ExecRequest first;
  if (!stream->Read(&first) || !first.has_options()) {
    return rpc::ToGrpc(absl::InvalidArgumentError("the first message of Exec must carry options"));
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
  auto pump = PumpInto<v1::ExecRequest>(context, stream, process->get());
  absl::Status status = RelayOutput(process->get(), stream);
  pump->Finish(context);
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
      return rpc::ToGrpc(absl::CancelledError("the client went away"));
    }
  }
  if (!info.ok()) return rpc::ToGrpc(info.status());
  response->mutable_status()->set_exit_code(info->exit_code);
  rpc::ToTimestamp(info->finished, response->mutable_status()->mutable_finished());
  response->mutable_status()->set_error(info->error);
  return grpc::Status::OK;
}

grpc::Status RuntimeService::Stop(grpc::ServerContext*, const v1::StopRequest* request,
                                  v1::StopResponse* response) {
  const int timeout = request->has_timeout_seconds() ? request->timeout_seconds() : 10;
  if (timeout < 0) {
    return rpc::ToGrpc(absl::InvalidArgumentError("negative stop timeout"));
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
    v1::Container* container = response->add_containers();
    ToProto(record, container);
    if (!request->size()) continue;
    // A container removed meanwhile just has no size: the list is still right.
    absl::StatusOr<int64_t> size = runtime_->WritableLayerSize(record.id);
    if (size.ok()) container->set_size_rw(*size);
  }
  for (std::string& id : runtime_->AutoRemoved()) response->add_auto_removed(std::move(id));
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
  if (request->has_tail() && request->tail() < 0) {
    return rpc::ToGrpc(absl::InvalidArgumentError("negative tail"));
  }
  absl::StatusOr<std::unique_ptr<ProcessStream>> process = runtime_->Logs(
      request->container(), request->follow(), request->has_tail() ? request->tail() : -1,
      request->has_since() ? rpc::FromTimestamp(request->since()) : absl::InfinitePast());
  if (!process.ok()) return rpc::ToGrpc(process.status());
  ProcessStream* stream = process->get();
  rpc::CancelWatch watch(context, [stream] { stream->Cancel(); });
  return rpc::ToGrpc(RelayOutput(process->get(), writer));
}

grpc::Status RuntimeService::Rename(grpc::ServerContext*, const v1::RenameRequest* request,
                                    v1::RenameResponse*) {
  return rpc::ToGrpc(runtime_->Rename(request->container(), request->name()));
}

grpc::Status RuntimeService::Top(grpc::ServerContext*, const v1::TopRequest* request,
                                 v1::TopResponse* response) {
  absl::StatusOr<Runtime::TopResult> top = runtime_->Top(
      request->container(), {request->ps_args().begin(), request->ps_args().end()});
  if (!top.ok()) return rpc::ToGrpc(top.status());
  for (const std::string& title : top->titles) response->add_titles(title);
  for (const auto& process : top->processes) {
    v1::TopProcess* out = response->add_processes();
    for (const std::string& value : process) out->add_values(value);
  }
  return grpc::Status::OK;
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
      if (!writer->Write(batch)) return rpc::ToGrpc(absl::CancelledError("the client went away"));
      batch.Clear();
    }
  }
  if (batch.changes_size() > 0 && !writer->Write(batch)) {
    return rpc::ToGrpc(absl::CancelledError("the client went away"));
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
      return rpc::ToGrpc(absl::InvalidArgumentError("unknown compression"));
  }
  options.pause = request->has_pause() ? request->pause() : true;
  options.lease = request->lease();
  absl::StatusOr<CommitResult> result = runtime_->Commit(request->container(), options);
  if (!result.ok()) return rpc::ToGrpc(result.status());
  convert::ToProto(result->layer, response->mutable_layer());
  convert::ToProto(result->spec, response->mutable_config());
  response->set_image_id(result->image_id);
  for (const auto& arg : result->args) response->add_args(arg);
  response->set_empty(result->empty);
  return grpc::Status::OK;
}

grpc::Status RuntimeService::Export(grpc::ServerContext* context,
                                    const v1::ExportRequest* request,
                                    grpc::ServerWriter<v1::DataChunk>* writer) {
  rpc::ChunkSink<v1::DataChunk> sink(context, writer);
  absl::Status status = runtime_->Export(request->container(), &sink);
  if (status.ok()) status = sink.Flush();
  return rpc::ToGrpc(status);
}

grpc::Status RuntimeService::CopyFrom(grpc::ServerContext* context,
                                      const v1::CopyFromRequest* request,
                                      grpc::ServerWriter<v1::CopyFromResponse>* writer) {
  rpc::ChunkSink<v1::CopyFromResponse> sink(context, writer);
  auto on_info = [writer](const PathInfo& info) -> absl::Status {
    v1::CopyFromResponse first;
    v1::PathStat* stat = first.mutable_stat();
    stat->set_name(info.name);
    stat->set_size(info.size);
    stat->set_mode(info.mode);
    rpc::ToTimestamp(info.mtime, stat->mutable_mtime());
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
