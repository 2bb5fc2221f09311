// Gateway: the container workflows (create, start, run, attach, exec, logs, the lifecycle,
// list, inspect, diff). A container holds its image in imagegraph from before it exists
// until after it is removed, so no client can delete an image a container uses.

#include "absl/strings/str_cat.h"
#include "cli/core/docker_words.h"
#include "cli/core/gateway.h"
#include "cli/core/runtime_sessions.h"
#include "lib/base/errors.h"
#include "lib/base/log.h"
#include "lib/base/random.h"
#include "lib/convert/api_types.h"
#include "lib/oci/image_config.h"

namespace strata::gateway {
absl::StatusOr<rt::Container> Gateway::CreateContainer(const gw::CreateContainerRequest& request) {
  ASSIGN_OR_RETURN(ig::Image image, InspectImage(request.image()));
  ASSIGN_OR_RETURN(oci::ImageConfig config, oci::ImageConfig::Parse(image.config()));
  ASSIGN_OR_RETURN(ig::ImageGraph::Stub * images, services_.imagegraph());
  ASSIGN_OR_RETURN(rt::Runtime::Stub * runtime, services_.runtime());

  // The hold comes first: from then on the image cannot be deleted under the container.
  const std::string id = RandomHex(64);
  ig::HoldImageRequest hold;
  hold.set_image(image.id());
  hold.set_holder(id);
  hold.set_node(node());
  ig::HoldImageResponse held;
  grpc::Status status = images->HoldImage(Services::Unary().get(), hold, &held);
  if (status.error_code() == grpc::StatusCode::NOT_FOUND ||
      status.error_code() == grpc::StatusCode::ABORTED) {
    return absl::NotFoundError(
        absl::StrCat("No such image: ", request.image(), " (it was removed meanwhile)"));
  }
  if (!status.ok()) return services_.ImagegraphError(status);

  rt::CreateContainerRequest create;
  create.set_id(id);
  create.set_image_id(image.id());
  create.set_image_ref(request.image());
  *create.mutable_layers() = image.layers();
  convert::ToProto(config.run_config(), create.mutable_image_config());
  *create.mutable_options() = request.options();
  rt::CreateContainerResponse created;
  // Pulling and unpacking a large image takes time: no deadline.
  grpc::ClientContext context;
  status = runtime->CreateContainer(&context, create, &created);
  if (!status.ok()) {
    ReleaseHold(id);
    return services_.RuntimeError(status);
  }
  return std::move(*created.mutable_container());
}

absl::StatusOr<rt::StartContainerResponse> Gateway::StartContainer(
    const rt::StartContainerRequest& request) {
  ASSIGN_OR_RETURN(rt::Runtime::Stub * runtime, services_.runtime());
  rt::StartContainerResponse response;
  grpc::Status status = runtime->StartContainer(Services::Unary().get(), request, &response);
  if (!status.ok()) return services_.RuntimeError(status, request.container());
  return response;
}

absl::StatusOr<RunResult> Gateway::Run(const gw::RunOptions& options) {
  gw::CreateContainerRequest create;
  create.set_image(options.image());
  *create.mutable_options() = options.options();
  // --rm is the runtime's to do when the process exits, however this client ends.
  if (options.remove()) create.mutable_options()->set_auto_remove(true);
  ASSIGN_OR_RETURN(rt::Container container, CreateContainer(create));
  const std::string id = container.id();
  // --rm: removed once the run is over, whichever way it ends.
  auto remove = [this, id] {
    rt::RemoveRequest request;
    request.set_container(id);
    request.set_force(true);
    absl::StatusOr<std::string> removed = RemoveContainer(request);
    // Removed by the runtime meanwhile: only the hold is left to release.
    if (!removed.ok() && absl::IsNotFound(removed.status())) ReleaseHold(id);
    if (!removed.ok() && !absl::IsNotFound(removed.status())) {
      STRATA_LOG(WARNING) << "could not remove container " << id << ": "
                          << removed.status().message();
    }
  };
  auto remove_if_asked = [&] {
    if (options.remove()) remove();
  };

  rt::StartContainerRequest start;
  start.set_container(id);
  if (options.options().tty()) *start.mutable_console_size() = options.console_size();
  absl::StatusOr<rt::StartContainerResponse> started = StartContainer(start);
  if (!started.ok()) {
    remove_if_asked();
    absl::Status failed = started.status();
    failed.SetPayload(kStartFailedPayload, absl::Cord("start"));
    return failed;
  }
  RunResult result;
  result.container = started->container();
  if (options.detach()) return result;

  rt::AttachOptions attach;
  attach.set_container(id);
  attach.set_stdin(options.options().open_stdin());
  attach.set_log_offset(started->log_offset());
  absl::StatusOr<std::unique_ptr<ProcessSession>> session = Attach(attach);
  if (!session.ok()) {
    remove_if_asked();
    return session.status();
  }
  result.session = std::move(*session);
  if (options.remove()) {
    // The runtime removes it once it exited; this releases the image hold at once (and
    // removes it already when the exit was seen). Detached from, it runs on: left alone.
    result.session = WithCleanup(std::move(result.session), [this, id, remove] {
      absl::StatusOr<rt::Container> container = InspectContainer(id);
      if (!container.ok()) {
        if (absl::IsNotFound(container.status())) ReleaseHold(id);
        return;
      }
      if (container->state() == rt::EXITED || container->state() == rt::CREATED) remove();
    });
  }
  return result;
}

absl::StatusOr<std::unique_ptr<ProcessSession>> Gateway::Attach(const rt::AttachOptions& options) {
  return internal::OpenAttach(services_, options);
}

absl::StatusOr<std::unique_ptr<ProcessSession>> Gateway::Exec(const rt::ExecOptions& options) {
  return internal::OpenExec(services_, options);
}

absl::StatusOr<std::unique_ptr<ProcessSession>> Gateway::Logs(const rt::LogsRequest& request) {
  return internal::OpenLogs(services_, request);
}

absl::StatusOr<rt::Container> Gateway::StopContainer(const rt::StopRequest& request) {
  ASSIGN_OR_RETURN(rt::Runtime::Stub * runtime, services_.runtime());
  const int timeout = request.has_timeout_seconds() ? request.timeout_seconds() : 10;
  rt::StopResponse response;
  grpc::Status status = runtime->Stop(
      Services::Unary(absl::Seconds(std::max(timeout, 0) + 60)).get(), request, &response);
  if (!status.ok()) return services_.RuntimeError(status, request.container());
  return std::move(*response.mutable_container());
}

absl::StatusOr<rt::Container> Gateway::RestartContainer(const rt::StopRequest& request) {
  ASSIGN_OR_RETURN(rt::Container stopped, StopContainer(request));
  rt::StartContainerRequest start;
  start.set_container(stopped.id());
  ASSIGN_OR_RETURN(rt::StartContainerResponse started, StartContainer(start));
  return std::move(*started.mutable_container());
}

absl::Status Gateway::RenameContainer(const rt::RenameRequest& request) {
  if (request.name().empty()) return absl::InvalidArgumentError("Neither old nor new names may be empty");
  ASSIGN_OR_RETURN(rt::Runtime::Stub * runtime, services_.runtime());
  rt::RenameResponse response;
  grpc::Status status = runtime->Rename(Services::Unary().get(), request, &response);
  if (!status.ok()) return services_.RuntimeError(status, request.container());
  return absl::OkStatus();
}

absl::StatusOr<rt::TopResponse> Gateway::TopContainer(const rt::TopRequest& request) {
  ASSIGN_OR_RETURN(rt::Runtime::Stub * runtime, services_.runtime());
  rt::TopResponse response;
  grpc::Status status = runtime->Top(Services::Unary().get(), request, &response);
  if (!status.ok()) return services_.RuntimeError(status, request.container());
  return response;
}

absl::Status Gateway::KillContainer(const rt::KillRequest& request) {
  ASSIGN_OR_RETURN(rt::Runtime::Stub * runtime, services_.runtime());
  rt::KillResponse response;
  grpc::Status status = runtime->Kill(Services::Unary().get(), request, &response);
  if (!status.ok()) return services_.RuntimeError(status, request.container());
  return absl::OkStatus();
}

absl::Status Gateway::PauseContainer(const std::string& container) {
  ASSIGN_OR_RETURN(rt::Runtime::Stub * runtime, services_.runtime());
  rt::PauseRequest request;
  request.set_container(container);
  rt::PauseResponse response;
  grpc::Status status = runtime->Pause(Services::Unary().get(), request, &response);
  if (!status.ok()) return services_.RuntimeError(status, container);
  return absl::OkStatus();
}

absl::Status Gateway::UnpauseContainer(const std::string& container) {
  ASSIGN_OR_RETURN(rt::Runtime::Stub * runtime, services_.runtime());
  rt::UnpauseRequest request;
  request.set_container(container);
  rt::UnpauseResponse response;
  grpc::Status status = runtime->Unpause(Services::Unary().get(), request, &response);
  if (!status.ok()) return services_.RuntimeError(status, container);
  return absl::OkStatus();
}

absl::StatusOr<rt::ExitStatus> Gateway::WaitContainer(const std::string& container,
                                                      absl::Time deadline) {
  ASSIGN_OR_RETURN(rt::Runtime::Stub * runtime, services_.runtime());
  rt::WaitRequest request;
  request.set_container(container);
  rt::WaitResponse response;
  grpc::ClientContext context;
  if (deadline != absl::InfiniteFuture()) context.set_deadline(absl::ToChronoTime(deadline));
  grpc::Status status = runtime->Wait(&context, request, &response);
  if (!status.ok()) return services_.RuntimeError(status, container);
  return std::move(*response.mutable_status());
}

absl::StatusOr<std::string> Gateway::RemoveContainer(const rt::RemoveRequest& request) {
  ASSIGN_OR_RETURN(rt::Runtime::Stub * runtime, services_.runtime());
  rt::RemoveResponse response;
  grpc::Status status = runtime->Remove(Services::Unary().get(), request, &response);
  if (!status.ok()) return services_.RuntimeError(status, request.container());
  ReleaseHold(response.id());
  return response.id();
}

void Gateway::ReleaseHold(const std::string& container_id) {
  absl::StatusOr<ig::ImageGraph::Stub*> images = services_.imagegraph();
  if (!images.ok()) return;
  ig::ReleaseImageRequest request;
  request.set_holder(container_id);
  ig::ReleaseImageResponse response;
  grpc::Status status = (*images)->ReleaseImage(Services::Unary().get(), request, &response);
  if (!status.ok()) {
    // The hold stays and keeps the image until a later release: never a lost image.
    STRATA_LOG(WARNING) << "could not release the image hold of container " << container_id << ": "
                        << status.error_message();
  }
}

absl::StatusOr<std::vector<rt::Container>> Gateway::ListContainers(bool all, bool size) {
  ASSIGN_OR_RETURN(rt::Runtime::Stub * runtime, services_.runtime());
  rt::ListRequest request;
  request.set_all(all);
  request.set_size(size);
  rt::ListResponse response;
  grpc::Status status = runtime->List(Services::Unary().get(), request, &response);
  if (!status.ok()) return services_.RuntimeError(status);
  return std::vector<rt::Container>(std::make_move_iterator(response.mutable_containers()->begin()),
                                    std::make_move_iterator(response.mutable_containers()->end()));
}

absl::StatusOr<rt::Container> Gateway::InspectContainer(const std::string& container) {
  if (container.empty()) return EmptyNameError("container");
  ASSIGN_OR_RETURN(rt::Runtime::Stub * runtime, services_.runtime());
  rt::InspectRequest request;
  request.set_container(container);
  rt::InspectResponse response;
  grpc::Status status = runtime->Inspect(Services::Unary().get(), request, &response);
  if (!status.ok()) return services_.RuntimeError(status, container);
  return std::move(*response.mutable_container());
}

absl::Status Gateway::Diff(const std::string& container,
                           const std::function<absl::Status(const rt::Change&)>& on_change) {
  ASSIGN_OR_RETURN(rt::Runtime::Stub * runtime, services_.runtime());
  grpc::ClientContext context;
  rt::DiffRequest request;
  request.set_container(container);
  auto reader = runtime->Diff(&context, request);
  rt::DiffResponse batch;
  absl::Status handled;
  while (handled.ok() && reader->Read(&batch)) {
    for (const rt::Change& change : batch.changes()) {
      handled = on_change(change);
      if (!handled.ok()) break;
    }
  }
  if (!handled.ok()) {
    context.TryCancel();
    while (reader->Read(&batch)) {
    }
  }
  grpc::Status status = reader->Finish();
  if (!handled.ok()) return handled;
  if (!status.ok()) return services_.RuntimeError(status, container);
  return absl::OkStatus();
}

}  // namespace strata::gateway
