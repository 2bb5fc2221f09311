// Gateway: bytes out of a container — export (the whole flattened file system) and copy
// from (one path), both tars streamed from the runtime into the caller's sink.

#include "absl/strings/str_cat.h"
#include "cli/core/copy_stream.h"
#include "cli/core/gateway.h"
#include "lib/base/errors.h"

namespace strata::gateway {
namespace {

// Finishes a drained server stream and picks the status to report: the sink's failure (the
// caller's doing) before the call's.
template <typename Reader>
absl::Status FinishStream(Services& services, Reader& reader, const absl::Status& sink_status,
                          const std::string& container) {
  grpc::Status status = reader->Finish();
  if (!sink_status.ok()) return sink_status;
  if (!status.ok()) return services.RuntimeError(status, container);
  return absl::OkStatus();
}

}  // namespace

absl::Status Gateway::Export(const std::string& container, layer::ByteSink* sink) {
  ASSIGN_OR_RETURN(rt::Runtime::Stub * runtime, services_.runtime());
  grpc::ClientContext context;
  rt::ExportRequest request;
  request.set_container(container);
  auto reader = runtime->Export(&context, request);
  rt::DataChunk chunk;
  absl::Status written;
  while (written.ok() && reader->Read(&chunk)) written = sink->Write(chunk.data());
  if (!written.ok()) {
    context.TryCancel();
    while (reader->Read(&chunk)) {
    }
  }
  return FinishStream(services_, reader, written, container);
}

absl::Status Gateway::CopyFrom(const rt::CopyFromRequest& request,
                               const std::function<absl::Status(const rt::PathStat&)>& on_stat,
                               layer::ByteSink* sink) {
  ASSIGN_OR_RETURN(std::unique_ptr<internal::CopyStream> stream,
                   internal::CopyStream::Open(services_, request));
  absl::Status handled = on_stat(stream->stat());
  while (handled.ok()) {
    absl::StatusOr<absl::string_view> chunk = stream->Read();
    if (!chunk.ok()) return chunk.status();
    if (chunk->empty()) break;
    handled = sink->Write(*chunk);
  }
  return stream->Finish(handled);
}

}  // namespace strata::gateway
