#include "lib/testing/service_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "lib/base/errors.h"
#include "lib/base/fs.h"
#include "lib/testing/subprocess.h"

namespace strata::testing {

absl::StatusOr<std::unique_ptr<ServiceProcess>> ServiceProcess::Start(
    const std::string& binary, const std::vector<std::string>& args) {
  // Tests listen on loopback TCP without TLS: say so (see ServerOptions::insecure).
  std::vector<std::string> argv = {binary, "--listen=127.0.0.1:0", "--insecure"};
  argv.insert(argv.end(), args.begin(), args.end());
  return StartCommand(argv);
}

absl::StatusOr<std::unique_ptr<ServiceProcess>> ServiceProcess::StartCommand(
    std::vector<std::string> argv, absl::Duration timeout) {
  const std::string binary = argv.at(0);
  std::unique_ptr<ServiceProcess> process(new ServiceProcess());
  const char* tmp = std::getenv("TEST_TMPDIR");
  std::string log_pattern = absl::StrCat(tmp ? tmp : "/tmp", "/service.XXXXXX.log");
  int log_fd = ::mkstemps(log_pattern.data(), 4);
  if (log_fd < 0) return ErrnoStatus(errno, "mkstemps");
  process->log_path_ = log_pattern;

  std::vector<char*> c_argv;
  for (std::string& arg : argv) c_argv.push_back(arg.data());
  c_argv.push_back(nullptr);

  process->pid_ = ::fork();
  if (process->pid_ < 0) return ErrnoStatus(errno, "fork");
  if (process->pid_ == 0) {
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    ::setpgid(0, 0);
    ::execv(c_argv[0], c_argv.data());
    ::_exit(127);
  }
  ::close(log_fd);

  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    absl::StatusOr<std::string> log = ReadFile(process->log_path_);
    if (log.ok()) {
      size_t at = log->find("listening on ");
      if (at != std::string::npos) {
        size_t end = log->find('\n', at);
        if (end != std::string::npos) {
          process->address_ = log->substr(at + 13, end - at - 13);
          // Go servers log `msg="listening on ADDR" key=value...`.
          process->address_ = process->address_.substr(0, process->address_.find_first_of("\" ,"));
          return process;
        }
      }
    }
    int status = 0;
    if (::waitpid(process->pid_, &status, WNOHANG) == process->pid_) {
      process->pid_ = -1;
      return absl::InternalError(
          absl::StrCat(binary, " exited before serving: ", log.ok() ? *log : std::string()));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  absl::StatusOr<std::string> log = ReadFile(process->log_path_);
  return absl::InternalError(absl::StrCat(binary, " did not start serving within ",
                                          absl::FormatDuration(timeout), ": ",
                                          log.ok() ? *log : std::string()));
}

int ServiceProcess::Stop(bool kill_hard) {
  if (pid_ < 0) return -1;
  ::kill(pid_, kill_hard ? SIGKILL : SIGTERM);
  int status = 0;
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (::waitpid(pid_, &status, WNOHANG) == 0) {
    if (absl::Now() > deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

ServiceProcess::~ServiceProcess() { Stop(); }

}  // namespace strata::testing
