// Commands that make and run processes: run, create, start, exec. Each parses docker's
// flags, calls the gateway core, and relays the process with the user's terminal.

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "cli/core/gateway.h"
#include "cli/env_file.h"
#include "lib/base/errors.h"
#include "cli/mount_flags.h"
#include "cli/session.h"
#include "cli/terminal.h"
#include "cli/util.h"

namespace strata::cli {
namespace {

namespace gw = ::strata::gateway::v1;
namespace rt = ::strata::runtime::v1;

// docker's create flags, as they parse.
struct CreateFlags {
  std::string name;
  std::vector<std::string> env;
  std::vector<std::string> env_files;
  std::vector<std::string> env_file_entries;  // what the env files say (ReadEnvFiles)
  std::string working_dir;
  std::string user;
  std::string entrypoint;
  bool entrypoint_set = false;
  bool interactive = false;
  bool tty = false;
  std::string network;
  std::string hostname;
  std::vector<std::string> labels;
  // -v, --mount, --tmpfs (cli/mount_flags.h).
  std::vector<std::string> volumes;
  std::vector<std::string> mounts;
  std::vector<std::string> tmpfs;
  // run only
  bool detach = false;
  bool remove = false;
  // run, start, attach
  std::string detach_keys = kDefaultDetachKeys;
  bool sig_proxy = true;
};

void AddCreateFlags(CLI::App* command, CreateFlags& flags) {
  // -h is docker's --hostname here; help stays --help.
  command->set_help_flag("--help", "Print this help message and exit");
  command->add_option("--name", flags.name, "Assign a name to the container");
  command->add_option("-e,--env", flags.env, "Set environment variables (KEY=VALUE)")
      ->allow_extra_args(false);
  command->add_option("--env-file", flags.env_files, "Read in a file of environment variables")
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
  command->add_option("--network", flags.network,
                      "\"host\" (default: the host's network) or \"none\" (loopback only)");
  command->add_option("-h,--hostname", flags.hostname, "Container host name");
  command->add_option("-l,--label", flags.labels, "Set metadata (KEY=VALUE)")
      ->allow_extra_args(false);
  command->add_option("-v,--volume", flags.volumes, "Bind mount a host directory (HOST:CONTAINER[:ro])")
      ->allow_extra_args(false);
  command->add_option("--mount", flags.mounts,
                      "Attach a filesystem mount (type=bind|tmpfs,source=,target=,readonly)")
      ->allow_extra_args(false);
  command->add_option("--tmpfs", flags.tmpfs, "Mount a tmpfs directory (PATH[:OPTIONS])")
      ->allow_extra_args(false);
}

// Reads --env-file files (docker puts them before -e). Errors: ReadEnvFile's.
absl::Status ReadEnvFiles(CreateFlags& flags) {
  for (const std::string& path : flags.env_files) {
    ASSIGN_OR_RETURN(std::vector<std::string> entries, ReadEnvFile(path));
    flags.env_file_entries.insert(flags.env_file_entries.end(), entries.begin(), entries.end());
  }
  return absl::OkStatus();
}

// The mounts -v, --mount and --tmpfs ask for. Errors: INVALID_ARGUMENT (docker's words).
absl::Status AddMounts(const CreateFlags& flags, types::v1::ContainerOptions* options) {
  for (const std::string& volume : flags.volumes) {
    ASSIGN_OR_RETURN(*options->add_mounts(), ParseVolumeFlag(volume));
  }
  for (const std::string& mount : flags.mounts) {
    ASSIGN_OR_RETURN(*options->add_mounts(), ParseMountFlag(mount));
  }
  for (const std::string& tmpfs : flags.tmpfs) {
    ASSIGN_OR_RETURN(*options->add_mounts(), ParseTmpfsFlag(tmpfs));
  }
  return absl::OkStatus();
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

types::v1::ContainerOptions ToOptions(const CreateFlags& flags,
                                      const std::vector<std::string>& cmd) {
  types::v1::ContainerOptions options;
  options.set_name(flags.name);
  if (flags.entrypoint_set) {
    // docker: --entrypoint "" clears it; "a b" is one program name, not split.
    options.mutable_entrypoint();
    if (!flags.entrypoint.empty()) options.mutable_entrypoint()->add_values(flags.entrypoint);
  }
  for (const auto& arg : cmd) options.add_cmd(arg);
  for (const auto& env : flags.env_file_entries) options.add_env(env);
  for (const auto& env : ResolveEnv(flags.env)) options.add_env(env);
  options.set_working_dir(flags.working_dir);
  options.set_user(flags.user);
  options.set_tty(flags.tty);
  options.set_open_stdin(flags.interactive);
  options.set_network(flags.network);
  options.set_hostname(flags.hostname);
  for (const std::string& label : flags.labels) {
    const size_t equals = label.find('=');
    (*options.mutable_labels())[label.substr(0, equals)] =
        equals == std::string::npos ? "" : label.substr(equals + 1);
  }
  return options;
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

// docker's exit code for a container that could not start.
int StartFailureCode(const absl::Status& status) {
  if (absl::StrContains(status.message(), "not found") ||
      absl::StrContains(status.message(), "no such file")) {
    return kExitNotFound;
  }
  if (absl::StrContains(status.message(), "permission denied")) return kExitCannotInvoke;
  return kExitServiceError;
}

types::v1::TerminalSize ConsoleSize() {
  WindowSize size = TerminalSize(IsTerminal(STDIN_FILENO) ? STDIN_FILENO : STDOUT_FILENO);
  types::v1::TerminalSize out;
  out.set_rows(size.rows);
  out.set_cols(size.cols);
  return out;
}

// Relays a session; signals strata gets go to the container (docker's --sig-proxy), the
// detach keys leave it running.
int Relay(gateway::Gateway& gateway, gateway::ProcessSession* session, const std::string& id,
          bool stdin, bool tty, const CreateFlags& flags) {
  absl::StatusOr<std::string> detach_keys = ParseDetachKeys(flags.detach_keys);
  if (!detach_keys.ok()) return Fail(detach_keys.status(), kExitServiceError);
  std::function<void(int)> forward;
  if (flags.sig_proxy) {
    forward = [&gateway, id](int signal) {
      rt::KillRequest request;
      request.set_container(id);
      request.set_signal(std::to_string(signal));
      (void)gateway.KillContainer(request);
    };
  }
  absl::StatusOr<int> code = RunSession(
      session,
      {.stdin = stdin, .tty = tty, .forward_signal = forward, .detach_keys = *detach_keys});
  return code.ok() ? *code : Fail(code.status(), kExitServiceError);
}

void AddAttachFlags(CLI::App* command, CreateFlags& flags) {
  command->add_option("--detach-keys", flags.detach_keys,
                      "Override the key sequence for detaching a container (default "
                      "\"ctrl-p,ctrl-q\")");
}

int Run(Globals& globals, CLI::App* command, const CreateFlags& flags) {
  ASSIGN_OR_FAIL(std::vector<std::string> args,
                 Positionals(command, 1, "run [OPTIONS] IMAGE [COMMAND] [ARG...]"),
                 kExitServiceError);
  // Detached, the container's terminal is the monitor's: none is needed here (docker -dit).
  if (flags.tty && flags.interactive && !flags.detach && !IsTerminal(STDIN_FILENO)) {
    return Fail("the input device is not a TTY: drop -t, or run from a terminal",
                kExitServiceError);
  }
  if (!ParseDetachKeys(flags.detach_keys).ok()) {
    return Fail(ParseDetachKeys(flags.detach_keys).status(), kExitServiceError);
  }
  gateway::Gateway gateway(globals.Endpoints());
  gw::RunOptions options;
  options.set_image(args[0]);
  *options.mutable_options() = ToOptions(flags, {args.begin() + 1, args.end()});
  if (absl::Status mounts = AddMounts(flags, options.mutable_options()); !mounts.ok()) {
    return Fail(mounts, kExitServiceError);
  }
  options.set_detach(flags.detach);
  options.set_remove(flags.remove);
  if (flags.tty) *options.mutable_console_size() = ConsoleSize();
  absl::StatusOr<gateway::RunResult> run = gateway.Run(options);
  if (!run.ok()) {
    // A container that exists but did not start is docker's 126/127; the rest 125.
    const bool start_failed = run.status().GetPayload(gateway::kStartFailedPayload).has_value();
    return Fail(run.status(), start_failed ? StartFailureCode(run.status()) : kExitServiceError);
  }
  if (flags.detach) {
    std::printf("%s\n", run->container.id().c_str());
    return 0;
  }
  return Relay(gateway, run->session.get(), run->container.id(), flags.interactive, flags.tty,
               flags);
}

int Create(Globals& globals, CLI::App* command, const CreateFlags& flags) {
  ASSIGN_OR_FAIL(std::vector<std::string> args,
                 Positionals(command, 1, "create [OPTIONS] IMAGE [COMMAND] [ARG...]"),
                 kExitServiceError);
  gateway::Gateway gateway(globals.Endpoints());
  gw::CreateContainerRequest request;
  request.set_image(args[0]);
  *request.mutable_options() = ToOptions(flags, {args.begin() + 1, args.end()});
  if (absl::Status mounts = AddMounts(flags, request.mutable_options()); !mounts.ok()) {
    return Fail(mounts, kExitServiceError);
  }
  ASSIGN_OR_FAIL(rt::Container container, gateway.CreateContainer(request), kExitServiceError);
  std::printf("%s\n", container.id().c_str());
  return 0;
}

int StartAttached(Globals& globals, const std::string& name, bool interactive,
                  const CreateFlags& flags) {
  gateway::Gateway gateway(globals.Endpoints());
  ASSIGN_OR_FAIL(rt::Container container, gateway.InspectContainer(name));
  rt::StartContainerRequest start;
  start.set_container(container.id());
  if (container.tty()) *start.mutable_console_size() = ConsoleSize();
  absl::StatusOr<rt::StartContainerResponse> started = gateway.StartContainer(start);
  if (!started.ok()) return Fail(started.status(), StartFailureCode(started.status()));
  rt::AttachOptions attach;
  attach.set_container(container.id());
  attach.set_stdin(interactive);
  attach.set_log_offset(started->log_offset());
  ASSIGN_OR_FAIL(std::unique_ptr<gateway::ProcessSession> session, gateway.Attach(attach));
  return Relay(gateway, session.get(), container.id(), interactive, container.tty(), flags);
}

// docker attach: the running container's main process, live (what it printed before is in
// `strata logs`); its exit code is strata's.
int Attach(Globals& globals, const std::string& name, bool no_stdin, const CreateFlags& flags) {
  gateway::Gateway gateway(globals.Endpoints());
  ASSIGN_OR_FAIL(rt::Container container, gateway.InspectContainer(name));
  if (container.state() != rt::RUNNING && container.state() != rt::PAUSED) {
    return Fail("You cannot attach to a stopped container, start it first");
  }
  if (container.state() == rt::PAUSED) {
    return Fail("You cannot attach to a paused container, unpause it first");
  }
  const bool stdin = container.open_stdin() && !no_stdin;
  if (stdin && container.tty() && !IsTerminal(STDIN_FILENO)) {
    return Fail("the input device is not a TTY", kExitServiceError);
  }
  rt::AttachOptions attach;
  attach.set_container(container.id());
  attach.set_stdin(stdin);
  ASSIGN_OR_FAIL(std::unique_ptr<gateway::ProcessSession> session, gateway.Attach(attach));
  return Relay(gateway, session.get(), container.id(), stdin, container.tty(), flags);
}

int Start(Globals& globals, const std::vector<std::string>& containers, bool attach,
          bool interactive, const CreateFlags& flags) {
  if (attach || interactive) {
    if (containers.size() != 1) return Fail("you cannot attach to more than one container at once");
    return StartAttached(globals, containers[0], interactive, flags);
  }
  gateway::Gateway gateway(globals.Endpoints());
  return ForEachContainer(containers, [&](const std::string& container) {
    rt::StartContainerRequest request;
    request.set_container(container);
    return gateway.StartContainer(request).status();
  });
}

int Exec(Globals& globals, CLI::App* command, const CreateFlags& flags) {
  ASSIGN_OR_FAIL(std::vector<std::string> args,
                 Positionals(command, 2, "exec [OPTIONS] CONTAINER COMMAND [ARG...]"),
                 kExitServiceError);
  if (flags.tty && flags.interactive && !IsTerminal(STDIN_FILENO)) {
    return Fail("the input device is not a TTY: drop -t, or run from a terminal",
                kExitServiceError);
  }
  gateway::Gateway gateway(globals.Endpoints());
  rt::ExecOptions options;
  options.set_container(args[0]);
  for (size_t i = 1; i < args.size(); ++i) options.add_args(args[i]);
  for (const auto& env : ResolveEnv(flags.env)) options.add_env(env);
  options.set_working_dir(flags.working_dir);
  options.set_user(flags.user);
  options.set_tty(flags.tty);
  options.set_stdin(flags.interactive);
  if (flags.tty) *options.mutable_size() = ConsoleSize();
  absl::StatusOr<std::unique_ptr<gateway::ProcessSession>> session = gateway.Exec(options);
  if (!session.ok()) return Fail(session.status(), StartFailureCode(session.status()));
  absl::StatusOr<int> code =
      RunSession(session->get(), {.stdin = flags.interactive, .tty = flags.tty});
  if (!code.ok()) return Fail(code.status(), StartFailureCode(code.status()));
  return *code;
}

void RegisterRunOrCreate(CLI::App& app, Globals& globals, int* exit_code, bool is_run) {
  CLI::App* command = app.add_subcommand(
      is_run ? "run" : "create", is_run ? "Create and run a container from an image"
                                        : "Create a container from an image, without starting it");
  auto flags = std::make_shared<CreateFlags>();
  AddCreateFlags(command, *flags);
  if (is_run) {
    command->add_flag("-d,--detach", flags->detach, "Run in the background, print the id");
    command->add_flag("--rm", flags->remove, "Remove the container when it exits");
    AddAttachFlags(command, *flags);
    command->add_flag("--sig-proxy,!--no-sig-proxy", flags->sig_proxy,
                      "Proxy received signals to the process (default true)");
  }
  command->prefix_command();
  command->footer(absl::StrCat("Usage: strata ", command->get_name(),
                               " [OPTIONS] IMAGE [COMMAND] [ARG...]"));
  command->callback([=, &globals] {
    if (absl::Status read = ReadEnvFiles(*flags); !read.ok()) {
      *exit_code = Fail(std::string(read.message()), kExitServiceError);
      return;
    }
    *exit_code = is_run ? Run(globals, command, *flags) : Create(globals, command, *flags);
  });
}

void RegisterExec(CLI::App& app, Globals& globals, int* exit_code) {
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

void RegisterStart(CLI::App& app, Globals& globals, int* exit_code) {
  CLI::App* command =
      app.add_subcommand("start", "Start one or more created or stopped containers");
  auto attach = std::make_shared<bool>(false);
  auto interactive = std::make_shared<bool>(false);
  auto containers = std::make_shared<std::vector<std::string>>();
  auto flags = std::make_shared<CreateFlags>();
  command->add_flag("-a,--attach", *attach, "Attach STDOUT/STDERR and wait for the exit code");
  command->add_flag("-i,--interactive", *interactive, "Attach the container's STDIN");
  AddAttachFlags(command, *flags);
  command->add_option("containers", *containers, "CONTAINER...")->required();
  command->callback([=, &globals] {
    *exit_code = Start(globals, *containers, *attach, *interactive, *flags);
  });
}

void RegisterAttach(CLI::App& app, Globals& globals, int* exit_code) {
  CLI::App* command = app.add_subcommand(
      "attach", "Attach local standard input, output, and error streams to a running container");
  auto flags = std::make_shared<CreateFlags>();
  auto no_stdin = std::make_shared<bool>(false);
  auto container = std::make_shared<std::string>();
  AddAttachFlags(command, *flags);
  command->add_flag("--no-stdin", *no_stdin, "Do not attach STDIN");
  command->add_flag("--sig-proxy,!--no-sig-proxy", flags->sig_proxy,
                    "Proxy all received signals to the process (default true)");
  command->add_option("container", *container, "CONTAINER")->required();
  command->callback([=, &globals] { *exit_code = Attach(globals, *container, *no_stdin, *flags); });
}

}  // namespace

void RegisterContainerCommands(CLI::App& app, Globals& globals, int* exit_code) {
  RegisterRunOrCreate(app, globals, exit_code, /*is_run=*/true);
  RegisterRunOrCreate(app, globals, exit_code, /*is_run=*/false);
  RegisterStart(app, globals, exit_code);
  RegisterExec(app, globals, exit_code);
  RegisterAttach(app, globals, exit_code);
}

}  // namespace strata::cli
