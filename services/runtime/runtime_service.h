#ifndef STRATA_SERVICES_RUNTIME_RUNTIME_SERVICE_H_
#define STRATA_SERVICES_RUNTIME_RUNTIME_SERVICE_H_

// The gRPC adapter of strata.runtime.v1: validates requests, calls the core Runtime and
// converts results and statuses. Streams bridge the core's ProcessStreams and ByteSinks to
// gRPC messages of at most about 1 MiB.

#include "services/runtime/core/runtime.h"
#include "strata/runtime/v1/runtime.grpc.pb.h"

namespace strata::runtime {

class RuntimeService final : public strata::runtime::v1::Runtime::Service {
 public:
  // runtime is not owned.
  explicit RuntimeService(Runtime* runtime) : runtime_(runtime) {}

  grpc::Status CreateContainer(grpc::ServerContext* context,
                               const v1::CreateContainerRequest* request,
                               v1::CreateContainerResponse* response) override;
  grpc::Status StartContainer(grpc::ServerContext* context,
                              const v1::StartContainerRequest* request,
                              v1::StartContainerResponse* response) override;
  grpc::Status Attach(grpc::ServerContext* context,
                      grpc::ServerReaderWriter<v1::ProcessOutput, v1::AttachRequest>* stream)
      override;
  grpc::Status Exec(grpc::ServerContext* context,
                    grpc::ServerReaderWriter<v1::ProcessOutput, v1::ExecRequest>* stream) override;
  grpc::Status Wait(grpc::ServerContext* context, const v1::WaitRequest* request,
                    v1::WaitResponse* response) override;
  grpc::Status Stop(grpc::ServerContext* context, const v1::StopRequest* request,
                    v1::StopResponse* response) override;
  grpc::Status Kill(grpc::ServerContext* context, const v1::KillRequest* request,
                    v1::KillResponse* response) override;
  grpc::Status Pause(grpc::ServerContext* context, const v1::PauseRequest* request,
                     v1::PauseResponse* response) override;
  grpc::Status Unpause(grpc::ServerContext* context, const v1::UnpauseRequest* request,
                       v1::UnpauseResponse* response) override;
  grpc::Status Remove(grpc::ServerContext* context, const v1::RemoveRequest* request,
                      v1::RemoveResponse* response) override;
  grpc::Status List(grpc::ServerContext* context, const v1::ListRequest* request,
                    v1::ListResponse* response) override;
  grpc::Status Inspect(grpc::ServerContext* context, const v1::InspectRequest* request,
                       v1::InspectResponse* response) override;
  grpc::Status Logs(grpc::ServerContext* context, const v1::LogsRequest* request,
                    grpc::ServerWriter<v1::ProcessOutput>* writer) override;
  grpc::Status Diff(grpc::ServerContext* context, const v1::DiffRequest* request,
                    grpc::ServerWriter<v1::DiffResponse>* writer) override;
  grpc::Status Commit(grpc::ServerContext* context, const v1::CommitRequest* request,
                      v1::CommitResponse* response) override;
  grpc::Status Export(grpc::ServerContext* context, const v1::ExportRequest* request,
                      grpc::ServerWriter<v1::DataChunk>* writer) override;
  grpc::Status CopyFrom(grpc::ServerContext* context, const v1::CopyFromRequest* request,
                        grpc::ServerWriter<v1::CopyFromResponse>* writer) override;
  grpc::Status Rename(grpc::ServerContext* context, const v1::RenameRequest* request,
                      v1::RenameResponse* response) override;
  grpc::Status Top(grpc::ServerContext* context, const v1::TopRequest* request,
                   v1::TopResponse* response) override;
  grpc::Status CopyTo(grpc::ServerContext* context,
                      grpc::ServerReader<v1::CopyToRequest>* reader,
                      v1::CopyToResponse* response) override;

 private:
  Runtime* runtime_;
};

}  // namespace strata::runtime

#endif  // STRATA_SERVICES_RUNTIME_RUNTIME_SERVICE_H_
