// Container commands: run, create, start, exec, ps, stop, kill, rm, wait, logs, pause,
// unpause, diff.

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "cli/gateway.h"
#include "cli/session.h"
#include "cli/terminal.h"
#include "cli/util.h"
#include "lib/base/errors.h"
#include "lib/base/fs.h"
#include "lib/oci/image_config.h"

namespace strata::cli {
namespace {

struct CreateFlags {
  std::string name;
  std::vector<std::string> env;
  std::string working_dir;
  std::string user;
  std::string entrypoint;
  bool entrypoint_set = false;
  bool interactive = false;
  bool tty = false;
  std::string network;
  std::string hostname;
  std::vector<std::string> labels;
  // run only
  bool detach = false;
  bool remove = false;
};

void AddCreateFlags(CLI::App* command, CreateFlags& flags) {
  // -h is docker's --hostname here; help stays --help.
  command->set_help_flag("--help", "Print this help message and exit");
  command->add_option("--name", flags.name, "Assign a name to the container");
  command->add_option("-e,--env", flags.env, "Set environment variables (KEY=VALUE)")
      ->allow_extra_args(false);
  command->add_option("-w,--workdir", flags.working_dir, "Working directory inside the container");
  command->add_option("-u,--user", flags.user, "Username or UID (format: <name|uid>[:<group|gid>])");
  command->add_option("--entrypoint", flags.entrypoint,
                      "Overwrite the default ENTRYPOINT (--entrypoint= clears it)")
      ->each([&flags](const std::string&) { flags.entrypoint_set = true; });
  // What main.cc turns `--entrypoint=` and `--entrypoint ""` into.
  command->add_flag_callback("--clear-entrypoint", [&flags] {
    flags.entrypoint.clear();
    flags.entrypoint_set = true;
  })->group("");
  command->add_flag("-i,--interactive", flags.interactive, "Keep STDIN open");
  command->add_flag("-t,--tty", flags.tty, "Allocate a pseudo-TTY");
  command->add_option("--network", flags.network, "\"host\" (default) or \"none\"");
  command->add_option("-h,--hostname", flags.hostname, "Container host name");
  command->add_option("-l,--label", flags.labels, "Set metadata (KEY=VALUE)")
      ->allow_extra_args(false);
}

// docker's -e: "KEY=VALUE" as given, "KEY" takes this shell's value (and is left out when the
// shell has none).
std::vector<std::string> ResolveEnv(const std::vector<std::string>& entries) {
  std::vector<std::string> resolved;
  for (const std::string& entry : entries) {
    if (entry.find('=') != std::string::npos) {
      resolved.push_back(entry);
    } else if (const char* value = std::getenv(entry.c_str())) {
      resolved.push_back(entry + "=" + value);
    }
  }
  return resolved;
}

// The command's first word and the rest, from CLI11's unparsed arguments (options stop at
// the first positional argument, as docker's do).
absl::StatusOr<std::vector<std::string>> Positionals(CLI::App* command, size_t required,
                                                     const char* usage) {
  std::vector<std::string> rest = command->remaining();
  if (!rest.empty() && absl::StartsWith(rest[0], "-") && rest[0] != "-") {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown flag: ", rest[0], "\nUsage: strata ", usage));
  }
  if (rest.size() < required) {
    return absl::InvalidArgumentError(absl::StrCat("\"strata ", command->get_name(),
                                                   "\" requires at least ", required,
                                                   " argument(s).\nUsage: strata ", usage));
  }
  return rest;
}

absl::StatusOr<rt::Container> CreateContainer(Gateway& gateway, const CreateFlags& flags,
                                              const std::string& image_ref,
                                              const std::vector<std::string>& cmd) {
  ASSIGN_OR_RETURN(ig::Image image, gateway.GetImage(image_ref));
  ASSIGN_OR_RETURN(oci::ImageConfig config, oci::ImageConfig::Parse(image.config()));
  rt::CreateContainerRequest request;
  request.set_name(flags.name);
  request.set_image_id(image.id());
  request.set_image_ref(image_ref);
  for (const auto& layer : image.layers()) *request.add_layers() = layer;
  ToRunConfig(config.run_config(), request.mutable_image_config());
  if (flags.entrypoint_set) {
    // docker: --entrypoint "" clears it; "a b" is one program name, not split.
    if (!flags.entrypoint.empty()) request.mutable_entrypoint()->add_values(flags.entrypoint);
    else request.mutable_entrypoint();
  }
  for (const auto& arg : cmd) request.add_cmd(arg);
  for (const auto& env : ResolveEnv(flags.env)) request.add_env(env);
  request.set_working_dir(flags.working_dir);
  request.set_user(flags.user);
  request.set_tty(flags.tty);
  request.set_open_stdin(flags.interactive);
  request.set_network(flags.network);
  request.set_hostname(flags.hostname);
  for (const std::string& label : flags.labels) {
    const size_t equals = label.find('=');
    (*request.mutable_labels())[label.substr(0, equals)] =
        equals == std::string::npos ? "" : label.substr(equals + 1);
  }
  ASSIGN_OR_RETURN(rt::Runtime::Stub * runtime, gateway.Runtime());
  rt::CreateContainerResponse response;
  // Pulling and unpacking a large image takes time: no 30 s deadline here.
  grpc::ClientContext context;
  grpc::Status status = runtime->CreateContainer(&context, request, &response);
  if (!status.ok()) return gateway.RuntimeError(status);
  return response.container();
}

// docker's exit code for a container that could not start.
int StartFailureCode(const absl::Status& status) {
  if (absl::StrContains(status.message(), "not found") ||
      absl::StrContains(status.message(), "no such file")) {
    return kExitNotFound;
  }
  if (absl::StrContains(status.message(), "permission denied")) return kExitCannotInvoke;
  return kExitServiceError;
}

absl::StatusOr<rt::StartContainerResponse> Start(Gateway& gateway, const std::string& container,
                                                 bool tty) {
  ASSIGN_OR_RETURN(rt::Runtime::Stub * runtime, gateway.Runtime());
  rt::StartContainerRequest request;
  request.set_container(container);
  if (tty) {
    WindowSize size = TerminalSize(IsTerminal(STDIN_FILENO) ? STDIN_FILENO : STDOUT_FILENO);
    request.mutable_console_size()->set_rows(size.rows);
    request.mutable_console_size()->set_cols(size.cols);
  }
  rt::StartContainerResponse response;
  grpc::Status status = runtime->StartContainer(Gateway::Unary().get(), request, &response);
  if (!status.ok()) return gateway.RuntimeError(status);
  return response;
}

// Attaches to a started container from its log offset and relays until it exits.
absl::StatusOr<int> AttachSession(Gateway& gateway, const std::string& container, bool stdin,
                                  bool tty, int64_t log_offset) {
  ASSIGN_OR_RETURN(rt::Runtime::Stub * runtime, gateway.Runtime());
  grpc::ClientContext context;
  auto stream = runtime->Attach(&context);
  rt::AttachRequest first;
  first.mutable_options()->set_container(container);
  first.mutable_options()->set_stdin(stdin);
  first.mutable_options()->set_log_offset(log_offset);
  if (!stream->Write(first)) {
    return gateway.RuntimeError(stream->Finish());
  }
  // docker's --sig-proxy: what strata receives, the container's process receives.
  auto forward = [runtime, container](int signal) {
    rt::KillRequest request;
    request.set_container(container);
    request.set_signal(std::to_string(signal));
    rt::KillResponse response;
    (void)runtime->Kill(Gateway::Unary().get(), request, &response);
  };
  absl::StatusOr<int> code =
      RunSession(&context, stream.get(), {.stdin = stdin, .tty = tty, .forward_signal = forward});
  if (!code.ok()) return gateway.RuntimeError(grpc::Status(
      static_cast<grpc::StatusCode>(code.status().code()), std::string(code.status().message())));
  return code;
}

absl::Status Remove(Gateway& gateway, const std::string& container, bool force) {
  ASSIGN_OR_RETURN(rt::Runtime::Stub * runtime, gateway.Runtime());
  rt::RemoveRequest request;
  request.set_container(container);
  request.set_force(force);
  rt::RemoveResponse response;
  grpc::Status status = runtime->Remove(Gateway::Unary().get(), request, &response);
  if (!status.ok()) return gateway.RuntimeError(status);
  return absl::OkStatus();
}

int Run(Globals& globals, CLI::App* command, const CreateFlags& flags) {
  absl::StatusOr<std::vector<std::string>> args =
      Positionals(command, 1, "run [OPTIONS] IMAGE [COMMAND] [ARG...]");
  if (!args.ok()) return Fail(args.status(), kExitServiceError);
  if (flags.detach && flags.remove) {
    return Fail("--rm cannot be combined with -d: remove the container with `strata rm` once "
                "it has exited",
                kExitServiceError);
  }
  if (flags.tty && flags.interactive && !IsTerminal(STDIN_FILENO)) {
    return Fail("the input device is not a TTY: drop -t, or run from a terminal",
                kExitServiceError);
  }
  Gateway gateway(globals);
  const std::vector<std::string> cmd(args->begin() + 1, args->end());
  absl::StatusOr<rt::Container> container = CreateContainer(gateway, flags, (*args)[0], cmd);
  if (!container.ok()) return Fail(container.status(), kExitServiceError);
  absl::StatusOr<rt::StartContainerResponse> started = Start(gateway, container->id(), flags.tty);
  if (!started.ok()) {
    if (flags.remove) (void)Remove(gateway, container->id(), true);
    return Fail(started.status(), StartFailureCode(started.status()));
  }
  if (flags.detach) {
    std::printf("%s\n", container->id().c_str());
    return 0;
  }
  absl::StatusOr<int> code = AttachSession(gateway, container->id(), flags.interactive,
                                           flags.tty, started->log_offset());
  if (flags.remove) {
    absl::Status removed = Remove(gateway, container->id(), true);
    if (!removed.ok()) Fail(removed);
  }
  if (!code.ok()) return Fail(code.status(), kExitServiceError);
  return *code;
}

int Create(Globals& globals, CLI::App* command, const CreateFlags& flags) {
  absl::StatusOr<std::vector<std::string>> args =
      Positionals(command, 1, "create [OPTIONS] IMAGE [COMMAND] [ARG...]");
  if (!args.ok()) return Fail(args.status(), kExitServiceError);
  Gateway gateway(globals);
  const std::vector<std::string> cmd(args->begin() + 1, args->end());
  absl::StatusOr<rt::Container> container = CreateContainer(gateway, flags, (*args)[0], cmd);
  if (!container.ok()) return Fail(container.status(), kExitServiceError);
  std::printf("%s\n", container->id().c_str());
  return 0;
}

std::string ContainerStatus(const rt::Container& container, absl::Time now) {
  switch (container.state()) {
    case rt::CREATED:
      return "Created";
    case rt::RUNNING:
      return absl::StrCat("Up ", HumanDuration(now - FromTimestamp(container.started())));
    case rt::PAUSED:
      return absl::StrCat("Up ", HumanDuration(now - FromTimestamp(container.started())),
                          " (Paused)");
    case rt::EXITED:
      return absl::StrCat("Exited (", container.exit_code(), ") ",
                          TimeAgo(FromTimestamp(container.finished()), now));
    default:
      return "Unknown";
  }
}

int Ps(Globals& globals, bool all, bool quiet, bool no_trunc) {
  Gateway gateway(globals);
  absl::StatusOr<std::vector<rt::Container>> containers = gateway.ListContainers(all);
  if (!containers.ok()) return Fail(containers.status());
  const absl::Time now = absl::Now();
  Table table({"CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"});
  for (const rt::Container& container : *containers) {
    const std::string id = no_trunc ? container.id() : container.id().substr(0, 12);
    if (quiet) {
      std::printf("%s\n", id.c_str());
      continue;
    }
    std::string command = absl::StrJoin(container.args(), " ");
    if (!no_trunc) command = Ellipsis(command, 20);
    table.Add({id, container.image_ref(), absl::StrCat("\"", command, "\""),
               TimeAgo(FromTimestamp(container.created()), now), ContainerStatus(container, now), "",
               container.name()});
  }
  if (!quiet) std::fputs(table.Render().c_str(), stdout);
  return 0;
}

// Runs one unary call per container, printing the name on success (docker stop/kill/rm...).
template <typename Call>
int ForEach(Gateway& gateway, const std::vector<std::string>& containers, Call call) {
  int code = 0;
  for (const std::string& container : containers) {
    absl::Status status = call(container);
    if (status.ok()) {
      std::printf("%s\n", container.c_str());
    } else {
      code = Fail(status);
    }
  }
  return code;
}

int Diff(Globals& globals, const std::string& container) {
  Gateway gateway(globals);
  absl::StatusOr<rt::Runtime::Stub*> runtime = gateway.Runtime();
  if (!runtime.ok()) return Fail(runtime.status());
  grpc::ClientContext context;
  rt::DiffRequest request;
  request.set_container(container);
  auto reader = (*runtime)->Diff(&context, request);
  rt::DiffResponse batch;
  while (reader->Read(&batch)) {
    for (const rt::Change& change : batch.changes()) {
      const char letter = change.kind() == rt::ADDED ? 'A' : change.kind() == rt::CHANGED ? 'C' : 'D';
      std::printf("%c %s\n", letter, change.path().c_str());
    }
  }
  grpc::Status status = reader->Finish();
  if (!status.ok()) return Fail(gateway.RuntimeError(status));
  return 0;
}

int Logs(Globals& globals, const std::string& container, bool follow) {
  Gateway gateway(globals);
  absl::StatusOr<rt::Runtime::Stub*> runtime = gateway.Runtime();
  if (!runtime.ok()) return Fail(runtime.status());
  grpc::ClientContext context;
  rt::LogsRequest request;
  request.set_container(container);
  request.set_follow(follow);
  auto reader = (*runtime)->Logs(&context, request);
  rt::ProcessOutput output;
  bool output_closed = false;
  while (reader->Read(&output)) {
    absl::Status written = output.has_stdout()   ? WriteAll(STDOUT_FILENO, output.stdout())
                           : output.has_stderr() ? WriteAll(STDERR_FILENO, output.stderr())
                                                 : absl::OkStatus();
    if (!written.ok()) output_closed = true;
    if (output.has_exit() || output_closed) break;
  }
  context.TryCancel();
  grpc::Status status = reader->Finish();
  if (output_closed) return kExitOutputClosed;
  if (!status.ok() && status.error_code() != grpc::StatusCode::CANCELLED) {
    return Fail(gateway.RuntimeError(status));
  }
  return 0;
}

int Exec(Globals& globals, CLI::App* command, const CreateFlags& flags) {
  absl::StatusOr<std::vector<std::string>> args =
      Positionals(command, 2, "exec [OPTIONS] CONTAINER COMMAND [ARG...]");
  if (!args.ok()) return Fail(args.status(), kExitServiceError);
  if (flags.tty && flags.interactive && !IsTerminal(STDIN_FILENO)) {
    return Fail("the input device is not a TTY: drop -t, or run from a terminal",
                kExitServiceError);
  }
  Gateway gateway(globals);
  absl::StatusOr<rt::Runtime::Stub*> runtime = gateway.Runtime();
  if (!runtime.ok()) return Fail(runtime.status());
  grpc::ClientContext context;
  auto stream = (*runtime)->Exec(&context);
  rt::ExecRequest first;
  rt::ExecOptions* options = first.mutable_options();
  options->set_container((*args)[0]);
  for (size_t i = 1; i < args->size(); ++i) options->add_args((*args)[i]);
  for (const auto& env : ResolveEnv(flags.env)) options->add_env(env);
  options->set_working_dir(flags.working_dir);
  options->set_user(flags.user);
  options->set_tty(flags.tty);
  options->set_stdin(flags.interactive);
  if (flags.tty) {
    WindowSize size = TerminalSize(IsTerminal(STDIN_FILENO) ? STDIN_FILENO : STDOUT_FILENO);
    options->mutable_size()->set_rows(size.rows);
    options->mutable_size()->set_cols(size.cols);
  }
  if (!stream->Write(first)) return Fail(gateway.RuntimeError(stream->Finish()));
  absl::StatusOr<int> code =
      RunSession(&context, stream.get(), {.stdin = flags.interactive, .tty = flags.tty});
  if (!code.ok()) return Fail(code.status(), StartFailureCode(code.status()));
  return *code;
}

}  // namespace

void RegisterContainerCommands(CLI::App& app, Globals& globals, int* exit_code) {
  for (const char* name : {"run", "create"}) {
    const bool is_run = std::string(name) == "run";
    CLI::App* command = app.add_subcommand(
        name, is_run ? "Create and run a container from an image"
                     : "Create a container from an image, without starting it");
    auto flags = std::make_shared<CreateFlags>();
    AddCreateFlags(command, *flags);
    if (is_run) {
      command->add_flag("-d,--detach", flags->detach, "Run in the background, print the id");
      command->add_flag("--rm", flags->remove, "Remove the container when it exits");
    }
    command->prefix_command();
    command->footer("Usage: strata " + std::string(name) + " [OPTIONS] IMAGE [COMMAND] [ARG...]");
    command->callback([=, &globals] {
      *exit_code = is_run ? Run(globals, command, *flags) : Create(globals, command, *flags);
    });
  }
  {
    CLI::App* command = app.add_subcommand("exec", "Run a command in a running container");
    auto flags = std::make_shared<CreateFlags>();
    command->add_option("-e,--env", flags->env, "Set environment variables")
        ->allow_extra_args(false);
    command->add_option("-w,--workdir", flags->working_dir, "Working directory");
    command->add_option("-u,--user", flags->user, "Username or UID");
    command->add_flag("-i,--interactive", flags->interactive, "Keep STDIN open");
    command->add_flag("-t,--tty", flags->tty, "Allocate a pseudo-TTY");
    command->prefix_command();
    command->callback([=, &globals] { *exit_code = Exec(globals, command, *flags); });
  }
  {
    CLI::App* command = app.add_subcommand("start", "Start one or more created or stopped containers");
    auto attach = std::make_shared<bool>(false);
    auto interactive = std::make_shared<bool>(false);
    auto containers = std::make_shared<std::vector<std::string>>();
    command->add_flag("-a,--attach", *attach, "Attach STDOUT/STDERR and wait for the exit code");
    command->add_flag("-i,--interactive", *interactive, "Attach the container's STDIN");
    command->add_option("containers", *containers, "CONTAINER...")->required();
    command->callback([=, &globals] {
      Gateway gateway(globals);
      if ((*attach || *interactive) && containers->size() != 1) {
        *exit_code = Fail("you cannot attach to more than one container at once");
        return;
      }
      if (*attach || *interactive) {
        absl::StatusOr<rt::Container> container = gateway.Inspect((*containers)[0]);
        if (!container.ok()) {
          *exit_code = Fail(container.status());
          return;
        }
        absl::StatusOr<rt::StartContainerResponse> started =
            Start(gateway, container->id(), container->tty());
        if (!started.ok()) {
          *exit_code = Fail(started.status(), StartFailureCode(started.status()));
          return;
        }
        absl::StatusOr<int> code = AttachSession(gateway, container->id(), *interactive,
                                                 container->tty(), started->log_offset());
        *exit_code = code.ok() ? *code : Fail(code.status());
        return;
      }
      *exit_code = ForEach(gateway, *containers, [&](const std::string& container) {
        return Start(gateway, container, false).status();
      });
    });
  }
  {
    CLI::App* command = app.add_subcommand("ps", "List containers");
    auto all = std::make_shared<bool>(false);
    auto quiet = std::make_shared<bool>(false);
    auto no_trunc = std::make_shared<bool>(false);
    command->add_flag("-a,--all", *all, "Show all containers (default shows just running)");
    command->add_flag("-q,--quiet", *quiet, "Only display container IDs");
    command->add_flag("--no-trunc", *no_trunc, "Don't truncate output");
    command->callback([=, &globals] { *exit_code = Ps(globals, *all, *quiet, *no_trunc); });
  }
  {
    CLI::App* command = app.add_subcommand("stop", "Stop one or more running containers");
    auto timeout = std::make_shared<int>(10);
    auto containers = std::make_shared<std::vector<std::string>>();
    command->add_option("-t,--time", *timeout, "Seconds to wait before killing")
        ->capture_default_str();
    command->add_option("containers", *containers, "CONTAINER...")->required();
    command->callback([=, &globals] {
      Gateway gateway(globals);
      *exit_code = ForEach(gateway, *containers, [&](const std::string& container) -> absl::Status {
        ASSIGN_OR_RETURN(rt::Runtime::Stub * runtime, gateway.Runtime());
        rt::StopRequest request;
        request.set_container(container);
        request.set_timeout_seconds(*timeout);
        rt::StopResponse response;
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(*timeout + 60));
        grpc::Status status = runtime->Stop(&context, request, &response);
        return status.ok() ? absl::OkStatus() : gateway.RuntimeError(status);
      });
    });
  }
  {
    CLI::App* command = app.add_subcommand("kill", "Kill one or more running containers");
    auto signal = std::make_shared<std::string>("KILL");
    auto containers = std::make_shared<std::vector<std::string>>();
    command->add_option("-s,--signal", *signal, "Signal to send")->capture_default_str();
    command->add_option("containers", *containers, "CONTAINER...")->required();
    command->callback([=, &globals] {
      Gateway gateway(globals);
      *exit_code = ForEach(gateway, *containers, [&](const std::string& container) -> absl::Status {
        ASSIGN_OR_RETURN(rt::Runtime::Stub * runtime, gateway.Runtime());
        rt::KillRequest request;
        request.set_container(container);
        request.set_signal(*signal);
        rt::KillResponse response;
        grpc::Status status = runtime->Kill(Gateway::Unary().get(), request, &response);
        return status.ok() ? absl::OkStatus() : gateway.RuntimeError(status);
      });
    });
  }
  for (const char* name : {"pause", "unpause"}) {
    const bool pause = std::string(name) == "pause";
    CLI::App* command = app.add_subcommand(
        name, pause ? "Pause all processes within containers" : "Unpause containers");
    auto containers = std::make_shared<std::vector<std::string>>();
    command->add_option("containers", *containers, "CONTAINER...")->required();
    command->callback([=, &globals] {
      Gateway gateway(globals);
      *exit_code = ForEach(gateway, *containers, [&](const std::string& container) -> absl::Status {
        ASSIGN_OR_RETURN(rt::Runtime::Stub * runtime, gateway.Runtime());
        grpc::Status status;
        if (pause) {
          rt::PauseRequest request;
          request.set_container(container);
          rt::PauseResponse response;
          status = runtime->Pause(Gateway::Unary().get(), request, &response);
        } else {
          rt::UnpauseRequest request;
          request.set_container(container);
          rt::UnpauseResponse response;
          status = runtime->Unpause(Gateway::Unary().get(), request, &response);
        }
        return status.ok() ? absl::OkStatus() : gateway.RuntimeError(status);
      });
    });
  }
  {
    CLI::App* command = app.add_subcommand("rm", "Remove one or more containers");
    auto force = std::make_shared<bool>(false);
    auto containers = std::make_shared<std::vector<std::string>>();
    command->add_flag("-f,--force", *force, "Kill a running container first");
    command->add_option("containers", *containers, "CONTAINER...")->required();
    command->callback([=, &globals] {
      Gateway gateway(globals);
      *exit_code = ForEach(gateway, *containers, [&](const std::string& container) {
        return Remove(gateway, container, *force);
      });
    });
  }
  {
    CLI::App* command =
        app.add_subcommand("wait", "Block until containers stop, then print their exit codes");
    auto containers = std::make_shared<std::vector<std::string>>();
    command->add_option("containers", *containers, "CONTAINER...")->required();
    command->callback([=, &globals] {
      Gateway gateway(globals);
      int code = 0;
      for (const std::string& container : *containers) {
        absl::StatusOr<rt::Runtime::Stub*> runtime = gateway.Runtime();
        if (!runtime.ok()) {
          code = Fail(runtime.status());
          continue;
        }
        rt::WaitRequest request;
        request.set_container(container);
        rt::WaitResponse response;
        grpc::ClientContext context;
        grpc::Status status = (*runtime)->Wait(&context, request, &response);
        if (!status.ok()) {
          code = Fail(gateway.RuntimeError(status));
          continue;
        }
        std::printf("%d\n", response.status().exit_code());
      }
      *exit_code = code;
    });
  }
  {
    CLI::App* command = app.add_subcommand("logs", "Fetch the logs of a container");
    auto follow = std::make_shared<bool>(false);
    auto container = std::make_shared<std::string>();
    command->add_flag("-f,--follow", *follow, "Follow log output");
    command->add_option("container", *container, "CONTAINER")->required();
    command->callback([=, &globals] { *exit_code = Logs(globals, *container, *follow); });
  }
  {
    CLI::App* command =
        app.add_subcommand("diff", "Inspect changes to files or directories on a container's filesystem");
    auto container = std::make_shared<std::string>();
    command->add_option("container", *container, "CONTAINER")->required();
    command->callback([=, &globals] { *exit_code = Diff(globals, *container); });
  }
}

}  // namespace strata::cli
