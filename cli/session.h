#ifndef STRATA_CLI_SESSION_H_
#define STRATA_CLI_SESSION_H_

// An attached process (strata run, start -a, exec): the local stdin goes to it, its output to
// the local stdout and stderr, terminal resizes follow SIGWINCH, signals strata receives
// (SIGINT, SIGTERM, SIGHUP) are passed on to it as docker's --sig-proxy does, and with a
// terminal the local one is in raw mode, restored however strata ends.

#include <functional>

#include "absl/status/statusor.h"
#include "cli/core/process_session.h"

namespace strata::cli {

// Exit code when the local output was closed under us (as a process killed by SIGPIPE).
inline constexpr int kExitOutputClosed = 141;

struct SessionOptions {
  // Forward stdin (docker's -i).
  bool stdin = false;
  // The process has a terminal (docker's -t).
  bool tty = false;
  // Passes a signal strata received on to the process; empty: strata ends on it instead.
  std::function<void(int)> forward_signal;
  // With a terminal and stdin: typing these bytes detaches (strata prints docker's "read
  // escape sequence" and ends with 0; the process runs on). Empty: never.
  std::string detach_keys;
};

// docker's default detach sequence, and its --detach-keys syntax: comma-separated keys,
// each a single character or ctrl-<a-z, @, [, \, ], ^, _>.
inline constexpr char kDefaultDetachKeys[] = "ctrl-p,ctrl-q";
// Errors: INVALID_ARGUMENT ("Invalid detach keys (X) provided").
absl::StatusOr<std::string> ParseDetachKeys(const std::string& keys);

// Call once at the start of main, before any thread: SIGINT, SIGTERM, SIGHUP and SIGWINCH are
// then taken by one thread of ours. Outside a session the first three end strata as they
// would have (restoring the terminal first).
void StartSignalHandling();

// Relays the session until the process exits; returns its exit code, or kExitOutputClosed
// when strata's stdout went away (the session is then cancelled).
// Errors: the session's when it ends without an exit status.
absl::StatusOr<int> RunSession(gateway::ProcessSession* session, const SessionOptions& options);

}  // namespace strata::cli

#endif  // STRATA_CLI_SESSION_H_
