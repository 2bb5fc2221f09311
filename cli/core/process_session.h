#ifndef STRATA_CLI_CORE_PROCESS_SESSION_H_
#define STRATA_CLI_CORE_PROCESS_SESSION_H_

// A process of a container as its caller sees it: output to read (stdout, stderr, and last
// the exit status), and for attached and exec'd processes stdin to write and a terminal to
// resize. The CLI relays a session to the user's terminal; the gRPC gateway relays it to its
// client. Next() is for one thread; the other methods may be called from another one (an
// input pump) at the same time.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "strata/runtime/v1/runtime.pb.h"

namespace strata::gateway {

class ProcessSession {
 public:
  // Ends the session (cancelling the call when it is still open).
  virtual ~ProcessSession() = default;

  // The next output (stdout or stderr bytes), or the exit status (the last one); nullopt
  // when the stream ended without an exit status (logs without follow).
  // Errors: the call's (UNAVAILABLE, CANCELLED, ...), already turned into a caller's message.
  virtual absl::StatusOr<std::optional<runtime::v1::ProcessOutput>> Next() = 0;

  // Errors: FAILED_PRECONDITION when the session takes no input (logs) or is closed.
  virtual absl::Status SendStdin(absl::string_view data) = 0;
  virtual absl::Status CloseStdin() = 0;
  virtual absl::Status Resize(uint32_t rows, uint32_t cols) = 0;

  // Ends the session from any thread: Next() returns CANCELLED.
  virtual void Cancel() = 0;
};

// A session that runs `on_end` once, after the wrapped one ended (destroyed): how `run --rm`
// removes its container whatever way the session ends.
std::unique_ptr<ProcessSession> WithCleanup(std::unique_ptr<ProcessSession> session,
                                            std::function<void()> on_end);

}  // namespace strata::gateway

#endif  // STRATA_CLI_CORE_PROCESS_SESSION_H_
