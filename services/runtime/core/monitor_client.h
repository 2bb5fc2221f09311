#ifndef STRATA_SERVICES_RUNTIME_CORE_MONITOR_CLIENT_H_
#define STRATA_SERVICES_RUNTIME_CORE_MONITOR_CLIENT_H_

// The runtime's side of a process monitor (services/runtime/monitor): starting one, detached
// from the runtime service so it survives the service's restarts, and talking to it.

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "lib/base/fs.h"
#include "services/runtime/monitor/frames.h"

namespace strata::runtime {

// Starts argv (the monitor binary and its flags, --ready-fd=3 included) in a session of its
// own, not a child of this process, and waits until it reports the process running.
// Returns the process's host pid.
// Errors: FAILED_PRECONDITION / INTERNAL with the monitor's message (runc's complaint),
// DEADLINE_EXCEEDED when it says nothing within the timeout.
absl::StatusOr<int> LaunchMonitor(const std::vector<std::string>& argv, absl::Duration timeout);

// A connection to a monitor's socket.
class MonitorConnection {
 public:
  // Connects and says hello. replay_offset >= 0 asks for the log from there first.
  // Errors: UNAVAILABLE when no monitor listens there (the process has ended).
  static absl::StatusOr<std::unique_ptr<MonitorConnection>> Connect(
      const std::string& socket_path, bool wants_stdin, int64_t replay_offset);

  absl::Status SendStdin(absl::string_view data);
  absl::Status CloseStdin();
  absl::Status Resize(uint16_t rows, uint16_t cols);

  // The next output or exit frame; nullopt when the monitor closed the connection.
  absl::StatusOr<std::optional<Frame>> Next();

  // Unblocks a Next() waiting on another thread; the connection is unusable afterwards.
  void Shutdown();

 private:
  explicit MonitorConnection(UniqueFd fd) : fd_(std::move(fd)), reader_(fd_.get()) {}

  UniqueFd fd_;
  FrameReader reader_;
};

}  // namespace strata::runtime

#endif  // STRATA_SERVICES_RUNTIME_CORE_MONITOR_CLIENT_H_
