#ifndef STRATA_CLI_CORE_RUNTIME_SESSIONS_H_
#define STRATA_CLI_CORE_RUNTIME_SESSIONS_H_

// ProcessSessions over the runtime's streaming RPCs: Attach and Exec (bidirectional: stdin,
// its end and resizes go up, output comes down) and Logs (output only). Internal to the
// gateway core.

#include <memory>

#include "absl/status/statusor.h"
#include "cli/core/process_session.h"
#include "cli/core/services.h"

namespace strata::gateway::internal {

// Opens Attach and sends its options.
absl::StatusOr<std::unique_ptr<ProcessSession>> OpenAttach(Services& services,
                                                           const rt::AttachOptions& options);
// Opens Exec and sends its options.
absl::StatusOr<std::unique_ptr<ProcessSession>> OpenExec(Services& services,
                                                         const rt::ExecOptions& options);
absl::StatusOr<std::unique_ptr<ProcessSession>> OpenLogs(Services& services,
                                                         const rt::LogsRequest& request);

}  // namespace strata::gateway::internal

#endif  // STRATA_CLI_CORE_RUNTIME_SESSIONS_H_
