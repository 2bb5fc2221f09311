// layerstore_bench: upload and download speed of one large blob through strata-layerstore over
// loopback gRPC, next to `cat FILE > /dev/null`, `sha256sum FILE` and `openssl dgst -sha256
// FILE` on the same file, and the service's peak memory above idle during the upload.
//
// Each repetition writes a fresh random file, times the three tools on it, starts a fresh
// strata-layerstore process (a separate process, so its memory is its own), uploads the file
// with LayerstoreClient, downloads it, and deletes the blob. Every reading of the file is from
// the page cache (it was just written), for the tools and the upload alike.
//
// Run it through bench/layerstore/run.sh, which builds everything first.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "lib/base/errors.h"
#include "lib/base/fs.h"
#include "lib/base/malloc_tuning.h"
#include "lib/rpc/client.h"
#include "lib/rpc/health.h"
#include "services/layerstore/client/layerstore_client.h"

extern char** environ;

namespace strata::bench {
namespace {

constexpr size_t kIoSize = 1 << 20;

double MegabytesPerSecond(int64_t bytes, absl::Duration elapsed) {
  return static_cast<double>(bytes) / 1e6 / absl::ToDoubleSeconds(elapsed);
}

// Writes `size` pseudo-random bytes (xorshift; incompressible, different per seed).
absl::Status WriteRandomFile(const std::string& path, int64_t size, uint64_t seed) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd.valid()) return ErrnoStatus(errno, "create " + path);
  std::vector<uint64_t> block(kIoSize / sizeof(uint64_t));
  uint64_t state = seed * 0x9E3779B97F4A7C15ull + 1;
  for (int64_t written = 0; written < size;) {
    for (uint64_t& word : block) {
      state ^= state << 13;
      state ^= state >> 7;
      state ^= state << 17;
      word = state;
    }
    const size_t n = static_cast<size_t>(std::min<int64_t>(kIoSize, size - written));
    RETURN_IF_ERROR(
        WriteAll(fd.get(), absl::string_view(reinterpret_cast<const char*>(block.data()), n)));
    written += static_cast<int64_t>(n);
  }
  return absl::OkStatus();
}

struct Timed {
  absl::Duration elapsed;
  std::string output;
};

// Runs a shell command, returning its wall-clock time and stdout.
absl::StatusOr<Timed> TimeCommand(const std::string& command) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return ErrnoStatus(errno, "pipe");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  std::string shell = "/bin/sh", dash_c = "-c", script = command;
  char* argv[] = {shell.data(), dash_c.data(), script.data(), nullptr};
  const absl::Time start = absl::Now();
  pid_t pid = 0;
  int error = ::posix_spawn(&pid, "/bin/sh", &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipe_fds[1]);
  if (error != 0) {
    ::close(pipe_fds[0]);
    return ErrnoStatus(error, "spawn " + command);
  }
  Timed timed;
  char buffer[4096];
  for (;;) {
    ssize_t n = ::read(pipe_fds[0], buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    timed.output.append(buffer, static_cast<size_t>(n));
  }
  ::close(pipe_fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  timed.elapsed = absl::Now() - start;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InternalError(absl::StrCat("`", command, "` failed: ", timed.output));
  }
  return timed;
}

// CPU time (user + system) a process used so far.
absl::Duration ProcessCpu(pid_t pid) {
  std::ifstream stat(absl::StrCat("/proc/", pid, "/stat"));
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  // Fields after the command name (which may hold spaces) start after the last ')'.
  std::istringstream fields(text.substr(text.rfind(')') + 2));
  std::string field;
  long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14) utime = std::stoll(field);
    if (i == 15) stime = std::stoll(field);
  }
  return absl::Seconds(static_cast<double>(utime + stime) / ::sysconf(_SC_CLK_TCK));
}

// A field of /proc/<pid>/status in KiB (VmRSS, VmHWM).
int64_t ProcStatusKib(pid_t pid, absl::string_view field) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    if (absl::StartsWith(line, absl::StrCat(field, ":"))) {
      std::istringstream fields(line.substr(field.size() + 1));
      int64_t kib = -1;
      fields >> kib;
      return kib;
    }
  }
  return -1;
}

// strata-layerstore as a child process on 127.0.0.1, port 0.
// Flags every started server gets besides --listen and --root.
std::vector<std::string>& ExtraServerArgs() {
  static std::vector<std::string> args;
  return args;
}

class Server {
 public:
  static absl::StatusOr<std::unique_ptr<Server>> Start(const std::string& binary,
                                                       const std::string& root,
                                                       const std::string& log) {
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return ErrnoStatus(errno, "pipe");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, log.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
    std::vector<std::string> args = {binary, "--listen=127.0.0.1:0", "--insecure",
                                     "--root=" + root};
    args.insert(args.end(), ExtraServerArgs().begin(), ExtraServerArgs().end());
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    auto server = std::unique_ptr<Server>(new Server());
    int error =
        ::posix_spawn(&server->pid_, binary.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(pipe_fds[1]);
    if (error != 0) {
      ::close(pipe_fds[0]);
      server->pid_ = -1;
      return ErrnoStatus(error, "spawn " + binary);
    }
    std::string out;
    char c;
    while (::read(pipe_fds[0], &c, 1) == 1 && c != '\n') out.push_back(c);
    ::close(pipe_fds[0]);
    if (!absl::StartsWith(out, "listening on ")) {
      return absl::InternalError(
          absl::StrCat(binary, " did not start (see ", log, "): \"", out, "\""));
    }
    server->address_ = out.substr(strlen("listening on "));
    return server;
  }

  ~Server() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status;
    ::waitpid(pid_, &status, 0);
  }

  pid_t pid() const { return pid_; }
  const std::string& address() const { return address_; }

 private:
  Server() = default;
  pid_t pid_ = -1;
  std::string address_;
};

// Samples a process's VmRSS while alive, keeping the largest value.
class RssSampler {
 public:
  explicit RssSampler(pid_t pid)
      : pid_(pid), thread_([this] {
          while (!stop_.load()) {
            peak_kib_ = std::max(peak_kib_.load(), ProcStatusKib(pid_, "VmRSS"));
            absl::SleepFor(absl::Milliseconds(2));
          }
        }) {}
  int64_t StopAndPeakKib() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
    return peak_kib_.load();
  }
  ~RssSampler() { StopAndPeakKib(); }

 private:
  const pid_t pid_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> peak_kib_{0};
  std::thread thread_;
};

struct Repetition {
  double cat = 0, sha256sum = 0, openssl = 0, upload = 0, download = 0;
  double peak_over_idle_mib = 0;     // from VmHWM, reset before the upload
  double sampled_over_idle_mib = 0;  // from VmRSS sampled every 2 ms
  double idle_mib = 0;
  // CPU seconds per GB moved, of the service and of the client (this process).
  double upload_server_cpu = 0, upload_client_cpu = 0;
  double download_server_cpu = 0, download_client_cpu = 0;
};

absl::StatusOr<Repetition> RunOnce(const std::string& server_binary, const std::string& workdir,
                                   int64_t size, int index) {
  Repetition rep;
  const std::string file = absl::StrCat(workdir, "/blob-", index, ".bin");
  const std::string root = absl::StrCat(workdir, "/root-", index);
  RETURN_IF_ERROR(
      WriteRandomFile(file, size, static_cast<uint64_t>(absl::ToUnixNanos(absl::Now()))));

  ASSIGN_OR_RETURN(Timed cat, TimeCommand(absl::StrCat("cat '", file, "' > /dev/null")));
  rep.cat = MegabytesPerSecond(size, cat.elapsed);
  ASSIGN_OR_RETURN(Timed sha256sum, TimeCommand(absl::StrCat("sha256sum '", file, "'")));
  rep.sha256sum = MegabytesPerSecond(size, sha256sum.elapsed);
  ASSIGN_OR_RETURN(Timed openssl, TimeCommand(absl::StrCat("openssl dgst -sha256 '", file, "'")));
  rep.openssl = MegabytesPerSecond(size, openssl.elapsed);
  const std::string expected_hex = sha256sum.output.substr(0, 64);
  if (!absl::StrContains(openssl.output, expected_hex)) {
    return absl::InternalError("sha256sum and openssl disagree: " + openssl.output);
  }
  ASSIGN_OR_RETURN(Digest expected, Digest::FromHex(expected_hex));

  ASSIGN_OR_RETURN(std::unique_ptr<Server> server,
                   Server::Start(server_binary, root, workdir + "/server.log"));
  ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> channel,
                   rpc::Dial({.address = server->address()}));
  ASSIGN_OR_RETURN(std::string serving, rpc::CheckHealth(channel, ""));
  if (serving != "SERVING") return absl::UnavailableError("the service is " + serving);
  layerstore::LayerstoreClient client(channel);
  // One small round trip first, so the idle size includes a warmed-up connection.
  (void)client.Stat(expected);
  absl::SleepFor(absl::Milliseconds(200));
  const int64_t idle_kib = ProcStatusKib(server->pid(), "VmRSS");
  rep.idle_mib = idle_kib / 1024.0;
  // Reset the high-water mark to the current size (Linux: "5" > clear_refs).
  bool hwm_reset = false;
  {
    std::ofstream clear_refs(absl::StrCat("/proc/", server->pid(), "/clear_refs"));
    clear_refs << "5";
    clear_refs.flush();
    hwm_reset = clear_refs.good();
  }

  {
    RssSampler sampler(server->pid());
    UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return ErrnoStatus(errno, "open " + file);
    ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
    const absl::Duration server_cpu = ProcessCpu(server->pid());
    const absl::Duration client_cpu = ProcessCpu(::getpid());
    const absl::Time start = absl::Now();
    ASSIGN_OR_RETURN(auto writer, client.OpenWriter(absl::StrCat("bench-", index), expected, size));
    for (;;) {
      // A fresh buffer per read, handed over whole: the writer sends it without a copy.
      std::string buffer(kIoSize, '\0');
      ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return ErrnoStatus(errno, "read " + file);
      if (n == 0) break;
      buffer.resize(static_cast<size_t>(n));
      RETURN_IF_ERROR(writer->WriteBuffer(std::move(buffer)));
    }
    ASSIGN_OR_RETURN(layerstore::CommitResult result, writer->Commit());
    const absl::Duration elapsed = absl::Now() - start;
    if (result.digest != expected || result.size != size) {
      return absl::InternalError("the upload stored something else: " + result.digest.str());
    }
    rep.upload = MegabytesPerSecond(size, elapsed);
    rep.upload_server_cpu =
        absl::ToDoubleSeconds(ProcessCpu(server->pid()) - server_cpu) / (size / 1e9);
    rep.upload_client_cpu =
        absl::ToDoubleSeconds(ProcessCpu(::getpid()) - client_cpu) / (size / 1e9);
    const int64_t sampled_kib = sampler.StopAndPeakKib();
    rep.sampled_over_idle_mib = (sampled_kib - idle_kib) / 1024.0;
    const int64_t hwm_kib = ProcStatusKib(server->pid(), "VmHWM");
    rep.peak_over_idle_mib = hwm_reset ? (hwm_kib - idle_kib) / 1024.0 : rep.sampled_over_idle_mib;
  }

  {
    const absl::Duration server_cpu = ProcessCpu(server->pid());
    const absl::Duration client_cpu = ProcessCpu(::getpid());
    const absl::Time start = absl::Now();
    ASSIGN_OR_RETURN(auto reader, client.OpenReader(expected));
    int64_t received = 0;
    for (;;) {
      ASSIGN_OR_RETURN(absl::string_view chunk, reader->Next());
      if (chunk.empty()) break;
      received += static_cast<int64_t>(chunk.size());
    }
    const absl::Duration elapsed = absl::Now() - start;
    if (received != size) {
      return absl::InternalError(absl::StrCat("downloaded ", received, " bytes of ", size));
    }
    rep.download = MegabytesPerSecond(size, elapsed);
    rep.download_server_cpu =
        absl::ToDoubleSeconds(ProcessCpu(server->pid()) - server_cpu) / (size / 1e9);
    rep.download_client_cpu =
        absl::ToDoubleSeconds(ProcessCpu(::getpid()) - client_cpu) / (size / 1e9);
  }

  RETURN_IF_ERROR(client.Delete(expected));
  server.reset();
  RETURN_IF_ERROR(RemoveAll(root));
  if (::unlink(file.c_str()) != 0) return ErrnoStatus(errno, "unlink " + file);
  return rep;
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

int Main(int argc, char** argv) {
  // --server-arg: e.g. the s3 backend's flags (bench/layerstore/s3.sh).
  CLI::App app{"layerstore_bench: strata-layerstore upload/download speed and memory"};
  std::string server_binary;
  app.add_option("--server", server_binary, "Path of the strata-layerstore binary")->required();
  std::string workdir = "/var/tmp/strata-layerstore-bench";
  app.add_option("--workdir", workdir, "Where the files and the store go (same disk)")
      ->capture_default_str();
  int64_t size = int64_t{1} << 30;
  app.add_option("--size", size, "Blob size in bytes")->capture_default_str();
  int repetitions = 3;
  app.add_option("--repetitions", repetitions, "Fresh file and server each time")
      ->capture_default_str();
  app.add_option("--server-arg", ExtraServerArgs(),
                 "Extra flag for strata-layerstore (repeatable), e.g. --backend=s3");
  CLI11_PARSE(app, argc, argv);
  ::signal(SIGPIPE, SIG_IGN);

  if (absl::Status made = MakeDirs(workdir); !made.ok()) {
    std::fprintf(stderr, "%s\n", std::string(made.message()).c_str());
    return 1;
  }
  std::printf(
      "layerstore benchmark: %lld-byte blob (%.0f MiB) over loopback gRPC, %d "
      "repetitions, files in %s\n",
      static_cast<long long>(size), size / 1048576.0, repetitions, workdir.c_str());
  std::printf(
      "MB = 10^6 bytes; the tools and the upload read the file from the page cache; "
      "the client is tuned with TuneMallocForStreaming as the service is\n\n");
  std::printf("%-7s %10s %10s %10s %10s %10s %12s %12s\n", "rep", "cat", "sha256sum", "openssl",
              "upload", "download", "peak>idle", "sampled>idle");
  std::printf("%-7s %10s %10s %10s %10s %10s %12s %12s\n", "", "MB/s", "MB/s", "MB/s", "MB/s",
              "MB/s", "MiB", "MiB");
  std::vector<Repetition> reps;
  for (int i = 0; i < repetitions; ++i) {
    absl::StatusOr<Repetition> rep = RunOnce(server_binary, workdir, size, i);
    if (!rep.ok()) {
      std::fprintf(stderr, "repetition %d: %s\n", i + 1,
                   std::string(rep.status().message()).c_str());
      return 1;
    }
    std::printf("%-7d %10.0f %10.0f %10.0f %10.0f %10.0f %12.1f %12.1f\n", i + 1, rep->cat,
                rep->sha256sum, rep->openssl, rep->upload, rep->download, rep->peak_over_idle_mib,
                rep->sampled_over_idle_mib);
    std::fflush(stdout);
    reps.push_back(*rep);
  }
  const auto median = [&](double Repetition::*field) {
    std::vector<double> values;
    for (const Repetition& rep : reps) values.push_back(rep.*field);
    return Median(values);
  };
  double worst_peak = 0;
  for (const Repetition& rep : reps) worst_peak = std::max(worst_peak, rep.peak_over_idle_mib);
  const double openssl = median(&Repetition::openssl);
  const double upload = median(&Repetition::upload);
  const double download = median(&Repetition::download);
  std::printf("%-7s %10.0f %10.0f %10.0f %10.0f %10.0f %12.1f %12.1f\n", "median",
              median(&Repetition::cat), median(&Repetition::sha256sum), openssl, upload, download,
              median(&Repetition::peak_over_idle_mib), median(&Repetition::sampled_over_idle_mib));
  std::printf("\nservice idle RSS: %.1f MiB (median)\n", median(&Repetition::idle_mib));
  std::printf(
      "CPU seconds per GB (median; 2 cores = 2 s per wall second): upload service %.2f "
      "client %.2f, download service %.2f client %.2f\n",
      median(&Repetition::upload_server_cpu), median(&Repetition::upload_client_cpu),
      median(&Repetition::download_server_cpu), median(&Repetition::download_client_cpu));
  std::printf("load average while running: %s",
              [] {
                std::ifstream loadavg("/proc/loadavg");
                std::string line;
                std::getline(loadavg, line);
                return line + "\n";
              }()
                  .c_str());
  const bool upload_ok = upload >= 0.6 * openssl;
  const bool download_ok = download >= 1000;
  const bool memory_ok = worst_peak < 64;
  std::printf("upload   %6.0f MB/s = %3.0f%% of openssl sha256 (target >= 60%%): %s\n", upload,
              100 * upload / openssl, upload_ok ? "met" : "MISSED");
  std::printf("download %6.0f MB/s (target >= 1000 MB/s): %s\n", download,
              download_ok ? "met" : "MISSED");
  std::printf(
      "peak RSS above idle during upload, worst repetition: %.1f MiB (target < 64 MiB): "
      "%s\n",
      worst_peak, memory_ok ? "met" : "MISSED");
  return upload_ok && download_ok && memory_ok ? 0 : 2;
}

}  // namespace
}  // namespace strata::bench

int main(int argc, char** argv) {
  // The benchmark is the client: tuned as the service is, and as the runtime and CLI should be.
  strata::TuneMallocForStreaming();
  return strata::bench::Main(argc, argv);
}
