#ifndef STRATA_CLI_SESSION_H_
#define STRATA_CLI_SESSION_H_

// An attached process (strata run, start -a, attach, exec): the local stdin goes to it, its
// output to the local stdout and stderr, terminal resizes follow SIGWINCH, and with a
// terminal the local one is in raw mode (restored at the end) so keys like Ctrl-C reach it.

#include "absl/status/statusor.h"
#include "grpcpp/support/sync_stream.h"
#include "strata/runtime/v1/runtime.grpc.pb.h"

namespace strata::cli {

struct SessionOptions {
  // Forward stdin (docker's -i).
  bool stdin = false;
  // The process has a terminal (docker's -t).
  bool tty = false;
};

// Call once at the start of main, before any thread: SIGWINCH is then delivered only where a
// session waits for it.
void BlockWindowChangeSignal();

// Runs the session until the process exits; returns its exit code.
// Errors: the call's status when it ends without an exit status.
template <typename Request>
absl::StatusOr<int> RunSession(
    grpc::ClientReaderWriter<Request, runtime::v1::ProcessOutput>* stream,
    const SessionOptions& options);

}  // namespace strata::cli

#endif  // STRATA_CLI_SESSION_H_
