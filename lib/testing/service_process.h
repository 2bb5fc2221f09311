#ifndef STRATA_LIB_TESTING_SERVICE_PROCESS_H_
#define STRATA_LIB_TESTING_SERVICE_PROCESS_H_

// Runs a service binary for a test on 127.0.0.1 port 0 and learns the port it got from the
// "listening on <address>" line every Strata service prints on stdout.

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace strata::testing {

class ServiceProcess {
 public:
  // binary: a runfile path (see RunfilePath) or absolute path. args: everything but --listen.
  // Errors: INTERNAL when it exits or prints nothing within 30 s (the message holds its output).
  static absl::StatusOr<std::unique_ptr<ServiceProcess>> Start(
      const std::string& binary, const std::vector<std::string>& args);

  // Runs argv as it is (argv[0] an absolute path) and waits for its "listening on ADDR" line
  // (ADDR ends at a space or a quote, as Go servers log it).
  // Waits up to `timeout` (slow starters such as Swift need more than the default).
  static absl::StatusOr<std::unique_ptr<ServiceProcess>> StartCommand(
      std::vector<std::string> argv, absl::Duration timeout = absl::Seconds(30));

  // SIGTERM, then SIGKILL after 10 s.
  ~ServiceProcess();

  const std::string& address() const { return address_; }
  pid_t pid() const { return pid_; }
  // Everything the process wrote to stdout and stderr so far is in this file.
  const std::string& log_path() const { return log_path_; }

  // Sends SIGTERM and waits for the exit code (or SIGKILL when kill_hard).
  int Stop(bool kill_hard = false);

 private:
  ServiceProcess() = default;

  pid_t pid_ = -1;
  std::string address_;
  std::string log_path_;
};

}  // namespace strata::testing

#endif  // STRATA_LIB_TESTING_SERVICE_PROCESS_H_
