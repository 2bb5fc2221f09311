#ifndef STRATA_CLI_CORE_COPY_STREAM_H_
#define STRATA_CLI_CORE_COPY_STREAM_H_

// The runtime's CopyFrom call as a pull stream: the path's stat, then the tar's bytes, for
// the gateway core's CopyFrom (push into a sink) and CopyToLocal (unpack on this machine).
// Internal to the gateway core.

#include <memory>

#include "absl/status/statusor.h"
#include "cli/core/services.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/sync_stream.h"
#include "lib/layer/stream.h"

namespace strata::gateway::internal {

class CopyStream : public layer::ByteSource {
 public:
  // Opens the call and reads the stat.
  // Errors: NOT_FOUND ("No such container" / no such path), the call's.
  static absl::StatusOr<std::unique_ptr<CopyStream>> Open(Services& services,
                                                          const rt::CopyFromRequest& request);
  // Cancels the call when it was not finished.
  ~CopyStream() override;

  const rt::PathStat& stat() const { return stat_; }

  // The tar's next bytes; empty at the end. Errors: the call's.
  absl::StatusOr<absl::string_view> Read() override;

  // Ends the call (cancelling it when the caller stopped early, i.e. `caller` is an error)
  // and returns caller's error if any, else the call's.
  absl::Status Finish(const absl::Status& caller);

 private:
  CopyStream(Services& services, std::string container)
      : services_(services), container_(std::move(container)) {}
  absl::Status CallStatus(const grpc::Status& status) const;

  Services& services_;
  const std::string container_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<rt::CopyFromResponse>> reader_;
  rt::CopyFromResponse message_;
  // The bytes Read() returned last (valid until the next call).
  std::string pending_;
  rt::PathStat stat_;
  bool ended_ = false;
  bool finished_ = false;
  absl::Status end_status_;
};

}  // namespace strata::gateway::internal

#endif  // STRATA_CLI_CORE_COPY_STREAM_H_
