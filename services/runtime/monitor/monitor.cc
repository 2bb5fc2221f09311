#include "services/runtime/monitor/monitor.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "lib/base/errors.h"
#include "lib/base/fs.h"
#include "lib/base/subprocess.h"
#include "lib/base/log.h"
#include "lib/oci/image_config.h"
#include "nlohmann/json.hpp"
#include "services/runtime/monitor/frames.h"

extern char** environ;

namespace strata::runtime {
namespace {

constexpr size_t kReadSize = 64 << 10;
// Stdin queued for a process that is not reading it; past this, clients are not read.
constexpr size_t kMaxPendingStdin = 4 << 20;
// After the process ends, output still in flight is read until the descriptors stay quiet
// this long (a background process may hold them open forever).
constexpr int kDrainQuietMillis = 300;

absl::Status SetNonBlocking(int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
    return ErrnoStatus(errno, "fcntl");
  }
  return absl::OkStatus();
}

absl::StatusOr<UniqueFd> ListenUnix(const std::string& path) {
  ::unlink(path.c_str());
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return ErrnoStatus(errno, "socket");
  struct sockaddr_un address {};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof(address.sun_path)) {
    return absl::InvalidArgumentError(absl::StrCat("socket path too long: ", path));
  }
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  if (::bind(fd.get(), reinterpret_cast<struct sockaddr*>(&address), sizeof(address)) != 0) {
    return ErrnoStatus(errno, absl::StrCat("bind ", path));
  }
  ::chmod(path.c_str(), 0600);
  if (::listen(fd.get(), 16) != 0) return ErrnoStatus(errno, absl::StrCat("listen ", path));
  return fd;
}

// Receives the terminal master runc sends over the console socket.
absl::StatusOr<UniqueFd> ReceiveFd(int socket_fd) {
  char data[256];
  struct iovec iov {data, sizeof(data)};
  union {
    char buffer[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } control;
  struct msghdr message {};
  message.msg_iov = &iov;
  message.msg_iovlen = 1;
  message.msg_control = control.buffer;
  message.msg_controllen = sizeof(control.buffer);
  if (::recvmsg(socket_fd, &message, MSG_CMSG_CLOEXEC) < 0) return ErrnoStatus(errno, "recvmsg");
  for (struct cmsghdr* header = CMSG_FIRSTHDR(&message); header != nullptr;
       header = CMSG_NXTHDR(&message, header)) {
    if (header->cmsg_level == SOL_SOCKET && header->cmsg_type == SCM_RIGHTS) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(header), sizeof(int));
      return UniqueFd(fd);
    }
  }
  return absl::InternalError("runc sent no terminal over the console socket");
}

struct Child {
  pid_t pid = -1;
};

// Starts argv with the given descriptors as its stdin, stdout and stderr.
absl::StatusOr<pid_t> Spawn(const std::vector<std::string>& argv, int in, int out, int err) {
  std::vector<char*> args = CStringArray(argv);
  pid_t pid = ::fork();
  if (pid < 0) return ErrnoStatus(errno, "fork");
  if (pid == 0) {
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::dup2(in, STDIN_FILENO);
    ::dup2(out, STDOUT_FILENO);
    ::dup2(err, STDERR_FILENO);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  return pid;
}

// What the monitor keeps per attached client.
struct Client {
  bool hello_done = false;
  bool wants_stdin = false;
  // >= 0 while the client still catches up from the log (the next byte to send it).
  int64_t replay_position = -1;
  // Bytes to send it.
  std::string pending;
  // Bytes received from it that do not make a whole frame yet.
  std::string input;
};

// Most bytes queued for one client before it counts as stuck and is dropped.
constexpr size_t kMaxClientBacklog = 8 << 20;

class Monitor {
 public:
  explicit Monitor(const MonitorOptions& options) : options_(options) {}

  int Run() {
    absl::Status status = Start();
    if (!status.ok()) {
      // Gone before the runtime hears of the failure: nothing may connect to a monitor of a
      // process that never ran once the start has been reported failed.
      RemoveOwnSocket();
      listen_fd_.Reset();
      Ready(absl::StrCat("error ", status.message()));
      return 1;
    }
    if (!Ready(absl::StrCat("ok ", pid_))) {
      // Nobody waits for us any more (the runtime gave up): a process nobody knows of must
      // not run on.
      ::kill(pid_, SIGKILL);
      if (options_.mode == "create") RuncDelete();
      RemoveOwnSocket();
      return 1;
    }
    Loop();
    Finish();
    return 0;
  }

 private:
  // Tells the runtime how the start went; false when it no longer listens.
  bool Ready(const std::string& line) {
    if (options_.ready_fd < 0) return true;
    const bool delivered = WriteAll(options_.ready_fd, line + "\n").ok();
    ::close(options_.ready_fd);
    return delivered;
  }

  // Removes the socket this monitor created, and only that one: a later start may already
  // have put its own monitor's socket at the same path.
  void RemoveOwnSocket() {
    struct stat st;
    if (::stat(options_.socket_path.c_str(), &st) == 0 && st.st_ino == socket_inode_ &&
        st.st_dev == socket_device_) {
      ::unlink(options_.socket_path.c_str());
    }
  }

  absl::Status Start() {
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGCHLD);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGHUP);
    ::sigprocmask(SIG_BLOCK, &signals, nullptr);
    ::signal(SIGPIPE, SIG_IGN);
    sigset_t children;
    sigemptyset(&children);
    sigaddset(&children, SIGCHLD);
    signal_fd_.Reset(::signalfd(-1, &children, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!signal_fd_.valid()) return ErrnoStatus(errno, "signalfd");

    ASSIGN_OR_RETURN(listen_fd_, ListenUnix(options_.socket_path));
    struct stat socket_stat;
    if (::stat(options_.socket_path.c_str(), &socket_stat) == 0) {
      socket_inode_ = socket_stat.st_ino;
      socket_device_ = socket_stat.st_dev;
    }
    if (!options_.log_path.empty()) {
      log_fd_.Reset(::open(options_.log_path.c_str(),
                           O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
      if (!log_fd_.valid()) return ErrnoStatus(errno, "open " + options_.log_path);
    }
    const std::string pid_file = options_.socket_path + ".pid";
    ::unlink(pid_file.c_str());
    RETURN_IF_ERROR(options_.tty ? StartWithTerminal(pid_file) : StartWithPipes(pid_file));

    ASSIGN_OR_RETURN(std::string pid_text, ReadFile(pid_file));
    ::unlink(pid_file.c_str());
    if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(pid_text), &pid_)) {
      return absl::InternalError("runc wrote no pid");
    }
    if (options_.mode == "create") {
      UniqueFd null_fd(::open("/dev/null", O_RDWR | O_CLOEXEC));
      int error_pipe[2];
      if (::pipe2(error_pipe, O_CLOEXEC) != 0) return ErrnoStatus(errno, "pipe");
      UniqueFd error_read(error_pipe[0]), error_write(error_pipe[1]);
      ASSIGN_OR_RETURN(pid_t starter,
                       Spawn(RuncArgs({"start", options_.id}), null_fd.get(), null_fd.get(),
                             error_write.get()));
      error_write.Reset();
      const int code = WaitFor(starter);
      if (code != 0) {
        std::string message = DrainText(error_read.get());
        RuncDelete();
        return absl::InternalError(absl::StrCat("runc start: ", message));
      }
    }
    return absl::OkStatus();
  }

  std::vector<std::string> RuncArgs(std::vector<std::string> tail) {
    std::vector<std::string> argv = {options_.runc, "--root", options_.runc_root};
    argv.insert(argv.end(), tail.begin(), tail.end());
    return argv;
  }

  std::vector<std::string> StartArgs(const std::string& pid_file, const std::string& console) {
    std::vector<std::string> tail;
    if (options_.mode == "create") {
      tail = {"create", "--bundle", options_.bundle, "--pid-file", pid_file};
    } else {
      tail = {"exec", "--detach", "--pid-file", pid_file, "--process", options_.process_file};
    }
    if (!console.empty()) {
      tail.push_back("--console-socket");
      tail.push_back(console);
    }
    tail.push_back(options_.id);
    return RuncArgs(tail);
  }

  absl::Status StartWithTerminal(const std::string& pid_file) {
    const std::string console_path = options_.socket_path + ".tty";
    ASSIGN_OR_RETURN(UniqueFd console, ListenUnix(console_path));
    UniqueFd null_fd(::open("/dev/null", O_RDWR | O_CLOEXEC));
    int error_pipe[2];
    if (::pipe2(error_pipe, O_CLOEXEC) != 0) return ErrnoStatus(errno, "pipe");
    UniqueFd error_read(error_pipe[0]), error_write(error_pipe[1]);
    ASSIGN_OR_RETURN(pid_t runc, Spawn(StartArgs(pid_file, console_path), null_fd.get(),
                                       null_fd.get(), error_write.get()));
    error_write.Reset();
    // runc connects and sends the terminal before it exits; if it fails first, it never does.
    struct pollfd fds[2] = {{console.get(), POLLIN, 0}, {error_read.get(), POLLIN, 0}};
    bool got_terminal = false;
    while (!got_terminal) {
      if (::poll(fds, 2, 60000) <= 0) break;
      if (fds[0].revents & POLLIN) {
        UniqueFd connection(::accept4(console.get(), nullptr, nullptr, SOCK_CLOEXEC));
        if (!connection.valid()) break;
        ASSIGN_OR_RETURN(terminal_, ReceiveFd(connection.get()));
        got_terminal = true;
      } else if (fds[1].revents & (POLLIN | POLLHUP)) {
        break;  // runc said something or exited: it failed
      }
    }
    ::unlink(console_path.c_str());
    const int code = WaitFor(runc);
    if (code != 0 || !got_terminal) {
      return absl::FailedPreconditionError(RuncFailure(DrainText(error_read.get())));
    }
    RETURN_IF_ERROR(SetNonBlocking(terminal_.get()));
    return absl::OkStatus();
  }

  absl::Status StartWithPipes(const std::string& pid_file) {
    int in_pipe[2] = {-1, -1}, out_pipe[2], err_pipe[2];
    UniqueFd null_fd(::open("/dev/null", O_RDWR | O_CLOEXEC));
    if (options_.stdin_open && ::pipe2(in_pipe, O_CLOEXEC) != 0) return ErrnoStatus(errno, "pipe");
    if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0) {
      return ErrnoStatus(errno, "pipe");
    }
    UniqueFd child_in(in_pipe[0]), child_out(out_pipe[1]), child_err(err_pipe[1]);
    stdin_.Reset(in_pipe[1]);
    stdout_.Reset(out_pipe[0]);
    stderr_.Reset(err_pipe[0]);
    ASSIGN_OR_RETURN(pid_t runc, Spawn(StartArgs(pid_file, ""),
                                       child_in.valid() ? child_in.get() : null_fd.get(),
                                       child_out.get(), child_err.get()));
    child_in.Reset();
    child_out.Reset();
    child_err.Reset();
    const int code = WaitFor(runc);
    if (code != 0) {
      // The process never ran: what arrived on its stderr is runc's complaint.
      RETURN_IF_ERROR(SetNonBlocking(stderr_.get()));
      return absl::FailedPreconditionError(RuncFailure(DrainText(stderr_.get())));
    }
    if (stdin_.valid()) RETURN_IF_ERROR(SetNonBlocking(stdin_.get()));
    RETURN_IF_ERROR(SetNonBlocking(stdout_.get()));
    RETURN_IF_ERROR(SetNonBlocking(stderr_.get()));
    return absl::OkStatus();
  }

  // runc's JSON log lines and stderr turned into one readable message.
  static std::string RuncFailure(std::string text) {
    std::string message;
    size_t start = 0;
    while (start < text.size()) {
      size_t end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      std::string line = text.substr(start, end - start);
      start = end + 1;
      nlohmann::json parsed = nlohmann::json::parse(line, nullptr, false);
      if (parsed.is_object() && parsed.contains("msg")) line = parsed["msg"].get<std::string>();
      if (!line.empty()) message = line;  // the last line carries the cause
    }
    return message.empty() ? "runc failed" : message;
  }

  static std::string DrainText(int fd) {
    std::string text;
    char buffer[4096];
    for (;;) {
      ssize_t n = ::read(fd, buffer, sizeof(buffer));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      text.append(buffer, static_cast<size_t>(n));
      if (text.size() > 65536) break;
    }
    return text;
  }

  // Waits for one child, keeping the statuses of others reaped meanwhile.
  int WaitFor(pid_t pid) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
      if (errno != EINTR) return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  void RuncDelete() {
    UniqueFd null_fd(::open("/dev/null", O_RDWR | O_CLOEXEC));
    absl::StatusOr<pid_t> pid = Spawn(RuncArgs({"delete", "--force", options_.id}),
                                      null_fd.get(), null_fd.get(), null_fd.get());
    if (pid.ok()) WaitFor(*pid);
  }

  void ReapChildren() {
    struct signalfd_siginfo info;
    while (::read(signal_fd_.get(), &info, sizeof(info)) > 0) {
    }
    for (;;) {
      int status = 0;
      pid_t reaped = ::waitpid(-1, &status, WNOHANG);
      if (reaped <= 0) break;
      if (reaped == pid_) {
        exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        exited_ = true;
        finished_ = absl::Now();
      }
    }
  }

  // Appends a frame to the log, and queues it for every client that is live (clients still
  // catching up will read it from the log). A client that lets too much pile up is dropped:
  // a slow reader must never stall the container's output.
  void Broadcast(FrameType type, absl::string_view data) {
    const std::string frame = EncodeFrame(type, data);
    if (log_fd_.valid()) (void)WriteAll(log_fd_.get(), frame);
    for (auto& [fd, client] : clients_) {
      if (!client.hello_done || client.replay_position >= 0) continue;
      if (client.pending.size() + frame.size() > kMaxClientBacklog) {
        throw_away_.push_back(fd);
        continue;
      }
      client.pending += frame;
      if (!Flush(fd, client)) throw_away_.push_back(fd);
    }
    DropClients();
  }

  // Sends what a client has queued, catching up from the log first; false when the client is
  // gone. Never blocks: what the socket does not take now waits for POLLOUT.
  bool Flush(int fd, Client& client) {
    for (;;) {
      if (client.pending.empty() && client.replay_position >= 0) {
        char buffer[kReadSize];
        UniqueFd log(::open(options_.log_path.c_str(), O_RDONLY | O_CLOEXEC));
        ssize_t n = log.valid() ? ::pread(log.get(), buffer, sizeof(buffer),
                                          client.replay_position)
                                : 0;
        if (n <= 0) {
          client.replay_position = -1;  // caught up: live from now on
          return true;
        }
        client.pending.assign(buffer, static_cast<size_t>(n));
        client.replay_position += n;
      }
      if (client.pending.empty()) return true;
      ssize_t written = ::send(fd, client.pending.data(), client.pending.size(), MSG_NOSIGNAL);
      if (written < 0) {
        if (errno == EINTR) continue;
        return errno == EAGAIN || errno == EWOULDBLOCK;
      }
      client.pending.erase(0, static_cast<size_t>(written));
    }
  }

  void DropClients() {
    for (int fd : throw_away_) {
      if (clients_.erase(fd) > 0) ::close(fd);
    }
    throw_away_.clear();
  }

  // Reads what an output descriptor has; false when it is finished (EOF, EIO on a terminal).
  bool PumpOutput(UniqueFd& fd, FrameType type) {
    char buffer[kReadSize];
    for (;;) {
      ssize_t n = ::read(fd.get(), buffer, sizeof(buffer));
      if (n > 0) {
        Broadcast(FrameType::kTime, EncodeTime(absl::ToUnixNanos(absl::Now())));
        Broadcast(type, absl::string_view(buffer, static_cast<size_t>(n)));
        last_output_ = absl::Now();
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) return true;
      fd.Reset();
      return false;
    }
  }



  // Reads what a client sent and handles every whole frame in it.
  void ReadClient(int fd, Client& client) {
    char buffer[kReadSize];
    for (;;) {
      ssize_t n = ::read(fd, buffer, sizeof(buffer));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      if (n <= 0) {
        throw_away_.push_back(fd);
        return;
      }
      client.input.append(buffer, static_cast<size_t>(n));
      if (static_cast<size_t>(n) < sizeof(buffer)) break;
    }
    while (client.input.size() >= kFrameHeaderSize) {
      uint32_t length = 0;
      for (int i = 1; i <= 4; ++i) length = (length << 8) | static_cast<unsigned char>(client.input[i]);
      if (length > kMaxFramePayload) {
        throw_away_.push_back(fd);
        return;
      }
      if (client.input.size() < kFrameHeaderSize + length) break;
      Frame frame{static_cast<FrameType>(client.input[0]),
                  client.input.substr(kFrameHeaderSize, length)};
      client.input.erase(0, kFrameHeaderSize + length);
      HandleClientFrame(fd, client, frame);
    }
  }

  void HandleClientFrame(int fd, Client& client, const Frame& frame) {
    if (!client.hello_done) {
      bool wants_stdin = false;
      int64_t replay_offset = -1;
      if (frame.type != FrameType::kHello ||
          !DecodeHello(frame.payload, &wants_stdin, &replay_offset)) {
        throw_away_.push_back(fd);
        return;
      }
      client.wants_stdin = wants_stdin;
      if (replay_offset >= 0 && !options_.log_path.empty()) client.replay_position = replay_offset;
      client.hello_done = true;
      if (!Flush(fd, client)) throw_away_.push_back(fd);
      return;
    }
    switch (frame.type) {
      case FrameType::kStdin:
        if (client.wants_stdin) pending_stdin_.append(frame.payload);
        break;
      case FrameType::kCloseStdin:
        if (client.wants_stdin) close_stdin_requested_ = true;
        break;
      case FrameType::kResize: {
        uint16_t rows = 0, cols = 0;
        if (terminal_.valid() && DecodeResize(frame.payload, &rows, &cols)) {
          struct winsize size {};
          size.ws_row = rows;
          size.ws_col = cols;
          ::ioctl(terminal_.get(), TIOCSWINSZ, &size);
        }
        break;
      }
      default:
        break;
    }
  }

  // Moves queued stdin into the process; closes its stdin when asked and drained.
  void FlushStdin() {
    int fd = terminal_.valid() ? terminal_.get() : stdin_.get();
    if (fd < 0) {
      pending_stdin_.clear();
      return;
    }
    while (!pending_stdin_.empty()) {
      ssize_t n = ::write(fd, pending_stdin_.data(), pending_stdin_.size());
      if (n > 0) {
        pending_stdin_.erase(0, static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) return;
      pending_stdin_.clear();  // the process closed its stdin
      stdin_.Reset();
      return;
    }
    if (close_stdin_requested_ && stdin_.valid()) stdin_.Reset();
  }

  void Loop() {
    last_output_ = absl::Now();
    for (;;) {
      const bool output_open = terminal_.valid() || stdout_.valid() || stderr_.valid();
      if (exited_ && (!output_open ||
                      absl::Now() - last_output_ > absl::Milliseconds(kDrainQuietMillis))) {
        return;
      }
      std::vector<struct pollfd> fds;
      fds.push_back({signal_fd_.get(), POLLIN, 0});
      fds.push_back({listen_fd_.get(), POLLIN, 0});
      const size_t outputs_at = fds.size();
      fds.push_back({terminal_.valid() ? terminal_.get() : -1, POLLIN, 0});
      fds.push_back({stdout_.valid() ? stdout_.get() : -1, POLLIN, 0});
      fds.push_back({stderr_.valid() ? stderr_.get() : -1, POLLIN, 0});
      const int stdin_fd = terminal_.valid() ? terminal_.get() : stdin_.get();
      fds.push_back({!pending_stdin_.empty() ? stdin_fd : -1, POLLOUT, 0});
      const size_t clients_at = fds.size();
      const bool accept_stdin = pending_stdin_.size() < kMaxPendingStdin;
      for (const auto& [fd, client] : clients_) {
        short events = accept_stdin ? POLLIN : 0;
        if (!client.pending.empty() || client.replay_position >= 0) events |= POLLOUT;
        fds.push_back({events != 0 ? fd : -1, events, 0});
      }
      const int timeout = exited_ ? kDrainQuietMillis : -1;
      if (::poll(fds.data(), fds.size(), timeout) < 0 && errno != EINTR) return;

      if (fds[0].revents & POLLIN) ReapChildren();
      if (fds[1].revents & POLLIN) {
        int client = ::accept4(listen_fd_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (client >= 0) clients_[client] = Client{};
      }
      if (fds[outputs_at].revents) PumpOutput(terminal_, FrameType::kStdout);
      if (fds[outputs_at + 1].revents) PumpOutput(stdout_, FrameType::kStdout);
      if (fds[outputs_at + 2].revents) PumpOutput(stderr_, FrameType::kStderr);
      if (fds[outputs_at + 3].revents || close_stdin_requested_) FlushStdin();
      for (size_t i = clients_at; i < fds.size(); ++i) {
        const int fd = fds[i].fd;
        auto it = clients_.find(fd);
        if (fd < 0 || it == clients_.end()) continue;
        if ((fds[i].revents & POLLOUT) && !Flush(fd, it->second)) {
          throw_away_.push_back(fd);
          continue;
        }
        if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) ReadClient(fd, it->second);
      }
      if (!pending_stdin_.empty() || close_stdin_requested_) FlushStdin();
      DropClients();
    }
  }

  void Finish() {
    if (options_.mode == "create") RuncDelete();
    nlohmann::json status = {{"exit_code", exit_code_},
                             {"finished", oci::FormatRfc3339(finished_)}};
    if (!options_.exit_path.empty()) {
      absl::Status written = WriteFileAtomically(options_.exit_path, status.dump());
      if (!written.ok()) STRATA_LOG(ERROR) << written;
    }
    // Everything each client is owed, then the exit frame; a client that takes more than a
    // few seconds to read it is left behind (the exit status is in the file anyway).
    const std::string frame =
        EncodeFrame(FrameType::kExit, EncodeExit(exit_code_, absl::ToUnixNanos(finished_)));
    for (auto& [fd, client] : clients_) {
      if (client.hello_done) {
        const int flags = ::fcntl(fd, F_GETFL);
        ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
        struct timeval timeout = {5, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
        if (Flush(fd, client) && client.pending.empty() && client.replay_position < 0) {
          (void)WriteAll(fd, frame);
        }
      }
      ::close(fd);
    }
    clients_.clear();
    RemoveOwnSocket();
  }

  const MonitorOptions options_;
  UniqueFd signal_fd_;
  UniqueFd listen_fd_;
  UniqueFd log_fd_;
  UniqueFd terminal_;
  UniqueFd stdin_;
  UniqueFd stdout_;
  UniqueFd stderr_;
  pid_t pid_ = -1;
  bool exited_ = false;
  int exit_code_ = 0;
  absl::Time finished_;
  absl::Time last_output_;
  ino_t socket_inode_ = 0;
  dev_t socket_device_ = 0;
  std::map<int, Client> clients_;
  std::vector<int> throw_away_;
  std::string pending_stdin_;
  bool close_stdin_requested_ = false;
};

}  // namespace

int RunMonitor(const MonitorOptions& options) { return Monitor(options).Run(); }

}  // namespace strata::runtime
