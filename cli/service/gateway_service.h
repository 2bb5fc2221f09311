#ifndef STRATA_CLI_SERVICE_GATEWAY_SERVICE_H_
#define STRATA_CLI_SERVICE_GATEWAY_SERVICE_H_

// The gRPC adapter of strata.gateway.v1: each RPC checks its request's shape, calls the
// gateway core (cli/core/gateway.h) and converts the status once (rpc::ToGrpc). Streams are
// relayed: progress messages as the core reports them (at most ten a second, plus the last),
// process I/O through the core's ProcessSession, tarballs through ByteSource / ByteSink
// adapters over the call. The codes are the core's, documented in gateway.proto, plus
// INVALID_ARGUMENT for a stream whose first message is not its options.

#include "cli/core/gateway.h"
#include "strata/gateway/v1/gateway.grpc.pb.h"

namespace strata::gateway {

class GatewayService final : public v1::Gateway::Service {
 public:
  // gateway is not owned and must outlive the service.
  explicit GatewayService(Gateway* gateway) : gateway_(gateway) {}

  grpc::Status ImportImage(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<v1::ImportImageResponse, v1::ImportImageRequest>* stream) override;
  grpc::Status Commit(grpc::ServerContext* context, const v1::CommitRequest* request,
                      grpc::ServerWriter<v1::CommitResponse>* writer) override;
  grpc::Status Pull(grpc::ServerContext* context, const v1::PullRequest* request,
                    grpc::ServerWriter<v1::PullResponse>* writer) override;
  grpc::Status Push(grpc::ServerContext* context, const v1::PushRequest* request,
                    grpc::ServerWriter<v1::PushResponse>* writer) override;
  grpc::Status Login(grpc::ServerContext* context, const v1::LoginRequest* request,
                     v1::LoginResponse* response) override;
  grpc::Status SaveImages(grpc::ServerContext* context, const v1::SaveRequest* request,
                          grpc::ServerWriter<v1::SaveResponse>* writer) override;
  grpc::Status LoadImages(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<v1::LoadResponse, v1::LoadRequest>* stream) override;
  grpc::Status ListImages(grpc::ServerContext* context, const ig::ListImagesRequest* request,
                          ig::ListImagesResponse* response) override;
  grpc::Status InspectImage(grpc::ServerContext* context, const ig::GetImageRequest* request,
                            ig::GetImageResponse* response) override;
  grpc::Status TagImage(grpc::ServerContext* context, const ig::TagRequest* request,
                        ig::TagResponse* response) override;
  grpc::Status RemoveImage(grpc::ServerContext* context, const ig::DeleteImageRequest* request,
                           ig::DeleteImageResponse* response) override;
  grpc::Status History(grpc::ServerContext* context, const ig::HistoryRequest* request,
                       ig::HistoryResponse* response) override;
  // Lifecycle (see gateway.proto): the codes of the core's workflows.
  grpc::Status DiskUsage(grpc::ServerContext* context, const gw::DiskUsageRequest* request,
                         gw::DiskUsageResult* response) override;
  grpc::Status PruneImages(grpc::ServerContext* context, const gw::PruneImagesRequest* request,
                           gw::PruneResult* response) override;
  grpc::Status PruneContainers(grpc::ServerContext* context,
                               const gw::PruneContainersRequest* request,
                               gw::PruneResult* response) override;
  grpc::Status PruneSystem(grpc::ServerContext* context, const gw::PruneImagesRequest* request,
                           gw::PruneResult* response) override;

  grpc::Status CreateContainer(grpc::ServerContext* context,
                               const v1::CreateContainerRequest* request,
                               rt::CreateContainerResponse* response) override;
  grpc::Status StartContainer(grpc::ServerContext* context,
                              const rt::StartContainerRequest* request,
                              rt::StartContainerResponse* response) override;
  grpc::Status Run(grpc::ServerContext* context,
                   grpc::ServerReaderWriter<v1::RunResponse, v1::RunRequest>* stream) override;
  grpc::Status Attach(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<rt::ProcessOutput, rt::AttachRequest>* stream) override;
  grpc::Status Exec(grpc::ServerContext* context,
                    grpc::ServerReaderWriter<rt::ProcessOutput, rt::ExecRequest>* stream) override;
  grpc::Status Logs(grpc::ServerContext* context, const rt::LogsRequest* request,
                    grpc::ServerWriter<rt::ProcessOutput>* writer) override;
  grpc::Status StopContainer(grpc::ServerContext* context, const rt::StopRequest* request,
                             rt::StopResponse* response) override;
  grpc::Status CopyTo(grpc::ServerContext* context, grpc::ServerReader<rt::CopyToRequest>* reader,
                      rt::CopyToResponse* response) override;
  grpc::Status RestartContainer(grpc::ServerContext* context, const rt::StopRequest* request,
                                rt::StopResponse* response) override;
  grpc::Status RenameContainer(grpc::ServerContext* context, const rt::RenameRequest* request,
                               rt::RenameResponse* response) override;
  grpc::Status TopContainer(grpc::ServerContext* context, const rt::TopRequest* request,
                            rt::TopResponse* response) override;
  grpc::Status KillContainer(grpc::ServerContext* context, const rt::KillRequest* request,
                             rt::KillResponse* response) override;
  grpc::Status PauseContainer(grpc::ServerContext* context, const rt::PauseRequest* request,
                              rt::PauseResponse* response) override;
  grpc::Status UnpauseContainer(grpc::ServerContext* context, const rt::UnpauseRequest* request,
                                rt::UnpauseResponse* response) override;
  grpc::Status WaitContainer(grpc::ServerContext* context, const rt::WaitRequest* request,
                             rt::WaitResponse* response) override;
  grpc::Status RemoveContainer(grpc::ServerContext* context, const rt::RemoveRequest* request,
                               rt::RemoveResponse* response) override;
  grpc::Status ListContainers(grpc::ServerContext* context, const rt::ListRequest* request,
                              rt::ListResponse* response) override;
  grpc::Status InspectContainer(grpc::ServerContext* context, const rt::InspectRequest* request,
                                rt::InspectResponse* response) override;
  grpc::Status Diff(grpc::ServerContext* context, const rt::DiffRequest* request,
                    grpc::ServerWriter<rt::DiffResponse>* writer) override;
  grpc::Status Export(grpc::ServerContext* context, const rt::ExportRequest* request,
                      grpc::ServerWriter<rt::DataChunk>* writer) override;
  grpc::Status CopyFrom(grpc::ServerContext* context, const rt::CopyFromRequest* request,
                        grpc::ServerWriter<rt::CopyFromResponse>* writer) override;
  grpc::Status CheckSystem(grpc::ServerContext* context, const v1::CheckSystemRequest* request,
                           grpc::ServerWriter<v1::CheckSystemResponse>* writer) override;

 private:
  Gateway* const gateway_;
};

}  // namespace strata::gateway

#endif  // STRATA_CLI_SERVICE_GATEWAY_SERVICE_H_
