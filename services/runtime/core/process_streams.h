#ifndef STRATA_SERVICES_RUNTIME_CORE_PROCESS_STREAMS_H_
#define STRATA_SERVICES_RUNTIME_CORE_PROCESS_STREAMS_H_

// The ProcessStream implementations behind Attach, Exec and Logs.

#include <functional>
#include <memory>
#include <string>

#include "services/runtime/core/monitor_client.h"
#include "services/runtime/core/runtime.h"

namespace strata::runtime {

// Output from a monitor that was asked to replay its log from log_offset. When the monitor
// goes away without an exit frame (it was finishing as we connected), the rest is read back
// from the log file, and exit_info supplies the status (it may wait for the runtime to
// notice the exit).
std::unique_ptr<ProcessStream> NewMonitorStream(std::unique_ptr<MonitorConnection> connection,
                                                const std::string& log_path, int64_t log_offset,
                                                std::function<ExitInfo()> exit_info);

// Output frames read back from a log file from offset; then the exit status from exit_info,
// or the end of the stream when exit_info is empty.
std::unique_ptr<ProcessStream> NewLogStream(const std::string& log_path, int64_t offset,
                                            std::function<ExitInfo()> exit_info);

// Runs cleanup when the stream is destroyed.
std::unique_ptr<ProcessStream> WithCleanup(std::unique_ptr<ProcessStream> stream,
                                           std::function<void()> cleanup);

}  // namespace strata::runtime

#endif  // STRATA_SERVICES_RUNTIME_CORE_PROCESS_STREAMS_H_
