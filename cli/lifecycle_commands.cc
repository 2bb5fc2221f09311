// Commands about existing containers: ps, stop, kill, pause, unpause, rm, wait, logs, diff.

#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "cli/commands.h"
#include "cli/core/gateway.h"
#include "cli/format.h"
#include "cli/session.h"
#include "cli/util.h"
#include "lib/base/fs.h"
#include "lib/rpc/time.h"

namespace strata::cli {
namespace {

namespace rt = ::strata::runtime::v1;

std::string ContainerStatus(const rt::Container& container, absl::Time now) {
  switch (container.state()) {
    case rt::CREATED:
      return "Created";
    case rt::RUNNING:
      return absl::StrCat("Up ", HumanDuration(now - rpc::FromTimestamp(container.started())));
    case rt::PAUSED:
      return absl::StrCat("Up ", HumanDuration(now - rpc::FromTimestamp(container.started())),
                          " (Paused)");
    case rt::EXITED:
      return absl::StrCat("Exited (", container.exit_code(), ") ",
                          TimeAgo(rpc::FromTimestamp(container.finished()), now));
    default:
      return "Unknown";
  }
}

int Ps(Globals& globals, bool all, bool quiet, bool no_trunc) {
  gateway::Gateway gateway(globals.Endpoints());
  ASSIGN_OR_FAIL(std::vector<rt::Container> containers, gateway.ListContainers(all));
  const absl::Time now = absl::Now();
  Table table({"CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"});
  for (const rt::Container& container : containers) {
    const std::string id = no_trunc ? container.id() : container.id().substr(0, 12);
    if (quiet) {
      std::printf("%s\n", id.c_str());
      continue;
    }
    std::string command = absl::StrJoin(container.args(), " ");
    if (!no_trunc) command = Ellipsis(command, 20);
    table.Add({id, container.image_ref(), absl::StrCat("\"", command, "\""),
               TimeAgo(rpc::FromTimestamp(container.created()), now),
               ContainerStatus(container, now), "", container.name()});
  }
  if (!quiet) std::fputs(table.Render().c_str(), stdout);
  return 0;
}

int Wait(Globals& globals, const std::vector<std::string>& containers) {
  gateway::Gateway gateway(globals.Endpoints());
  int code = 0;
  for (const std::string& container : containers) {
    absl::StatusOr<rt::ExitStatus> status = gateway.WaitContainer(container);
    if (!status.ok()) {
      code = Fail(status.status());
      continue;
    }
    std::printf("%d\n", status->exit_code());
  }
  return code;
}

int Logs(Globals& globals, const std::string& container, bool follow) {
  gateway::Gateway gateway(globals.Endpoints());
  rt::LogsRequest request;
  request.set_container(container);
  request.set_follow(follow);
  ASSIGN_OR_FAIL(std::unique_ptr<gateway::ProcessSession> session, gateway.Logs(request));
  for (;;) {
    ASSIGN_OR_FAIL(std::optional<rt::ProcessOutput> output, session->Next());
    if (!output.has_value() || output->has_exit()) return 0;
    const bool out = output->has_stdout();
    if (!WriteAll(out ? STDOUT_FILENO : STDERR_FILENO, out ? output->stdout() : output->stderr())
             .ok()) {
      return kExitOutputClosed;
    }
  }
}

int Diff(Globals& globals, const std::string& container) {
  gateway::Gateway gateway(globals.Endpoints());
  absl::Status status = gateway.Diff(container, [](const rt::Change& change) {
    const char letter = change.kind() == rt::ADDED     ? 'A'
                        : change.kind() == rt::CHANGED ? 'C'
                                                       : 'D';
    std::printf("%c %s\n", letter, change.path().c_str());
    return absl::OkStatus();
  });
  return status.ok() ? 0 : Fail(status);
}

// A command taking CONTAINER... and running call for each (docker prints each name).
void RegisterForEach(CLI::App& app, Globals& globals, int* exit_code, const char* name,
                     const char* description,
                     std::function<absl::Status(gateway::Gateway&, const std::string&)> call,
                     const std::function<void(CLI::App*)>& add_flags = {}) {
  CLI::App* command = app.add_subcommand(name, description);
  if (add_flags) add_flags(command);
  auto containers = std::make_shared<std::vector<std::string>>();
  command->add_option("containers", *containers, "CONTAINER...")->required();
  command->callback([=, &globals] {
    gateway::Gateway gateway(globals.Endpoints());
    *exit_code = ForEachContainer(
        *containers, [&](const std::string& container) { return call(gateway, container); });
  });
}

void RegisterPs(CLI::App& app, Globals& globals, int* exit_code) {
  CLI::App* command = app.add_subcommand("ps", "List containers");
  auto all = std::make_shared<bool>(false);
  auto quiet = std::make_shared<bool>(false);
  auto no_trunc = std::make_shared<bool>(false);
  command->add_flag("-a,--all", *all, "Show all containers (default shows just running)");
  command->add_flag("-q,--quiet", *quiet, "Only display container IDs");
  command->add_flag("--no-trunc", *no_trunc, "Don't truncate output");
  command->callback([=, &globals] { *exit_code = Ps(globals, *all, *quiet, *no_trunc); });
}

void RegisterStopKillRm(CLI::App& app, Globals& globals, int* exit_code) {
  auto timeout = std::make_shared<int>(10);
  RegisterForEach(
      app, globals, exit_code, "stop", "Stop one or more running containers",
      [timeout](gateway::Gateway& gateway, const std::string& container) {
        rt::StopRequest request;
        request.set_container(container);
        request.set_timeout_seconds(*timeout);
        return gateway.StopContainer(request).status();
      },
      [timeout](CLI::App* command) {
        command->add_option("-t,--time", *timeout, "Seconds to wait before killing")
            ->capture_default_str();
      });
  auto signal = std::make_shared<std::string>("KILL");
  RegisterForEach(
      app, globals, exit_code, "kill", "Kill one or more running containers",
      [signal](gateway::Gateway& gateway, const std::string& container) {
        rt::KillRequest request;
        request.set_container(container);
        request.set_signal(*signal);
        return gateway.KillContainer(request);
      },
      [signal](CLI::App* command) {
        command->add_option("-s,--signal", *signal, "Signal to send")->capture_default_str();
      });
  auto force = std::make_shared<bool>(false);
  RegisterForEach(
      app, globals, exit_code, "rm", "Remove one or more containers",
      [force](gateway::Gateway& gateway, const std::string& container) {
        rt::RemoveRequest request;
        request.set_container(container);
        request.set_force(*force);
        return gateway.RemoveContainer(request).status();
      },
      [force](CLI::App* command) {
        command->add_flag("-f,--force", *force, "Kill a running container first");
      });
  RegisterForEach(app, globals, exit_code, "pause", "Pause all processes within containers",
                  [](gateway::Gateway& gateway, const std::string& container) {
                    return gateway.PauseContainer(container);
                  });
  RegisterForEach(app, globals, exit_code, "unpause", "Unpause containers",
                  [](gateway::Gateway& gateway, const std::string& container) {
                    return gateway.UnpauseContainer(container);
                  });
}

void RegisterWaitLogsDiff(CLI::App& app, Globals& globals, int* exit_code) {
  {
    CLI::App* command =
        app.add_subcommand("wait", "Block until containers stop, then print their exit codes");
    auto containers = std::make_shared<std::vector<std::string>>();
    command->add_option("containers", *containers, "CONTAINER...")->required();
    command->callback([=, &globals] { *exit_code = Wait(globals, *containers); });
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
    CLI::App* command = app.add_subcommand(
        "diff", "Inspect changes to files or directories on a container's filesystem");
    auto container = std::make_shared<std::string>();
    command->add_option("container", *container, "CONTAINER")->required();
    command->callback([=, &globals] { *exit_code = Diff(globals, *container); });
  }
}

}  // namespace

void RegisterLifecycleCommands(CLI::App& app, Globals& globals, int* exit_code) {
  RegisterPs(app, globals, exit_code);
  RegisterStopKillRm(app, globals, exit_code);
  RegisterWaitLogsDiff(app, globals, exit_code);
}

}  // namespace strata::cli
