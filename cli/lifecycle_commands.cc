// Commands about existing containers: ps, stop, kill, pause, unpause, rm, wait, logs, diff.

#include <unistd.h>

#include <algorithm>
#include <map>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "cli/commands.h"
#include "cli/core/gateway.h"
#include "cli/core/list_filters.h"
#include "cli/format.h"
#include "cli/template.h"
#include "cli/session.h"
#include "cli/util.h"
#include "lib/base/fs.h"
#include "lib/rpc/time.h"

namespace strata::cli {
namespace {

namespace ig = ::strata::imagegraph::v1;
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

struct PsOptions {
  bool all = false;
  bool quiet = false;
  bool no_trunc = false;
  bool size = false;
  std::vector<std::string> filters;
  std::string format;
};

// docker's SIZE column: "2B (virtual 1.23MB)", the writable layer and that plus the image.
std::string SizeText(const rt::Container& container,
                     const std::map<std::string, int64_t>& image_sizes) {
  if (!container.has_size_rw()) return "N/A";
  auto image = image_sizes.find(container.image_id());
  const int64_t image_size = image == image_sizes.end() ? 0 : image->second;
  return absl::StrCat(HumanSize(container.size_rw()), " (virtual ",
                      HumanSize(container.size_rw() + image_size), ")");
}

// A row as docker's --format templates see it (cli/command/formatter/container.go).
Json ContainerRowJson(const rt::Container& container, const PsOptions& options, absl::Time now,
                      const std::map<std::string, int64_t>& image_sizes) {
  std::string command = absl::StrJoin(container.args(), " ");
  if (!options.no_trunc) command = Ellipsis(command, 20);
  std::vector<std::string> labels;
  Json label_map = Json::object();
  std::map<std::string, std::string> sorted(container.config().labels().begin(),
                                            container.config().labels().end());
  for (const auto& [key, value] : sorted) {
    labels.push_back(absl::StrCat(key, "=", value));
    label_map[key] = value;
  }
  std::vector<std::string> mounts;
  for (const auto& mount : container.mounts()) mounts.push_back(mount.target());
  const absl::Time created = rpc::FromTimestamp(container.created());
  Json out = Json::object();
  out["Command"] = GoJson(Json(command));  // strconv.Quote
  out["CreatedAt"] = absl::FormatTime("%Y-%m-%d %H:%M:%S %z %Z", created, absl::LocalTimeZone());
  out["ID"] = options.no_trunc ? container.id() : container.id().substr(0, 12);
  out["Image"] = container.image_ref();
  out["Labels"] = absl::StrJoin(labels, ",");
  out["Label"] = label_map;  // {{.Label "key"}}
  out["LocalVolumes"] = "0";
  out["Mounts"] = absl::StrJoin(mounts, ",");
  out["Names"] = container.name();
  out["Networks"] = container.network().empty() ? "host" : container.network();
  out["Ports"] = "";
  out["RunningFor"] = TimeAgo(created, now);
  // Known with -s (or a format that asks for .Size); docker's word otherwise.
  out["Size"] = SizeText(container, image_sizes);
  out["State"] = gateway::ContainerStatusWord(container);
  out["Status"] = ContainerStatus(container, now);
  return out;
}

const Json& ContainerHeaders() {
  static const Json* headers = new Json{
      {"Command", "COMMAND"},   {"CreatedAt", "CREATED AT"},       {"ID", "CONTAINER ID"},
      {"Image", "IMAGE"},       {"Labels", "LABELS"},              {"Label", "LABEL"},
      {"LocalVolumes", "LOCAL VOLUMES"}, {"Mounts", "MOUNTS"},     {"Names", "NAMES"},
      {"Networks", "NETWORKS"}, {"Ports", "PORTS"},                {"RunningFor", "CREATED"},
      {"Size", "SIZE"},         {"State", "STATE"},                {"Status", "STATUS"}};
  return *headers;
}

int Ps(Globals& globals, const PsOptions& options) {
  gateway::Gateway gateway(globals.Endpoints());
  ASSIGN_OR_FAIL_DAEMON(gateway::Filters filters,
                        gateway::ParseFilters(options.filters, {"status", "name", "id", "ancestor",
                                                                "label", "exited"}));
  std::map<std::string, std::string> parents;
  if (filters.count("ancestor") > 0) {
    ig::ListImagesRequest request;
    request.set_all(true);
    ASSIGN_OR_FAIL_DAEMON(std::vector<ig::Image> images, gateway.ListAllImages(request));
    for (const ig::Image& image : images) parents[image.id()] = image.parent_id();
  }
  ASSIGN_OR_FAIL_DAEMON(
      gateway::ContainerFilter filter,
      gateway::ContainerFilter::Make(
          filters, [&gateway](const std::string& ref) { return gateway.InspectImage(ref); },
          [&parents](const std::string& id) {
            auto found = parents.find(id);
            return found == parents.end() ? std::string() : found->second;
          }));
  const ListFormat format = ParseListFormat(options.format);
  const bool templated = !format.text.empty() || format.json;
  // docker computes sizes for -s, and for a template that prints them.
  const bool sizes = !options.quiet && (options.size || (templated && (format.json ||
                                        absl::StrContains(format.text, ".Size"))));
  ASSIGN_OR_FAIL(std::vector<rt::Container> containers,
                 gateway.ListContainers(options.all || filter.wants_all(), sizes));
  std::map<std::string, int64_t> image_sizes;
  if (sizes) {
    ig::ListImagesRequest request;
    request.set_all(true);
    ASSIGN_OR_FAIL_DAEMON(std::vector<ig::Image> images, gateway.ListAllImages(request));
    for (const ig::Image& image : images) image_sizes[image.id()] = image.size();
  }
  const absl::Time now = absl::Now();
  std::vector<std::string> header = {"CONTAINER ID", "IMAGE",  "COMMAND", "CREATED",
                                     "STATUS",       "PORTS", "NAMES"};
  if (options.size) header.push_back("SIZE");
  Table table(header);
  std::vector<Json> rows;
  for (const rt::Container& container : containers) {
    if (!filter.Matches(container)) continue;
    const std::string id = options.no_trunc ? container.id() : container.id().substr(0, 12);
    if (options.quiet) {
      std::printf("%s\n", id.c_str());
      continue;
    }
    if (templated) {
      rows.push_back(ContainerRowJson(container, options, now, image_sizes));
      continue;
    }
    std::string command = absl::StrJoin(container.args(), " ");
    if (!options.no_trunc) command = Ellipsis(command, 20);
    std::vector<std::string> row = {id,
                                    container.image_ref(),
                                    absl::StrCat("\"", command, "\""),
                                    TimeAgo(rpc::FromTimestamp(container.created()), now),
                                    ContainerStatus(container, now),
                                    "",
                                    container.name()};
    if (options.size) row.push_back(SizeText(container, image_sizes));
    table.Add(std::move(row));
  }
  if (options.quiet) return 0;
  if (!templated) {
    std::fputs(table.Render().c_str(), stdout);
    return 0;
  }
  absl::StatusOr<std::string> text =
      RenderList(format, rows, ContainerHeaders(), "*formatter.ContainerContext");
  if (!text.ok()) return FailPlain(std::string(text.status().message()));
  std::fputs(text->c_str(), stdout);
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

// docker's --since: a duration before now ("10m", "1h30m"), an RFC 3339 time, or unix
// seconds. Errors: INVALID_ARGUMENT.
absl::StatusOr<absl::Time> ParseSince(const std::string& value, absl::Time now) {
  absl::Duration ago;
  if (absl::ParseDuration(value, &ago)) return now - ago;
  double seconds = 0;
  if (absl::SimpleAtod(value, &seconds)) return absl::FromUnixNanos(static_cast<int64_t>(seconds * 1e9));
  absl::Time time;
  std::string error;
  for (const char* format : {absl::RFC3339_full, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"}) {
    if (absl::ParseTime(format, value, absl::UTCTimeZone(), &time, &error)) return time;
  }
  return absl::InvalidArgumentError(absl::StrCat("invalid value for \"since\": ", value));
}

struct LogsFlags {
  bool follow = false;
  bool timestamps = false;
  std::string tail = "all";
  std::string since;
};

int Logs(Globals& globals, const std::string& container, const LogsFlags& flags) {
  gateway::Gateway gateway(globals.Endpoints());
  rt::LogsRequest request;
  request.set_container(container);
  request.set_follow(flags.follow);
  if (flags.tail != "all") {
    int64_t tail = 0;
    // docker: a negative or unparsable tail means all.
    if (absl::SimpleAtoi(flags.tail, &tail) && tail >= 0) request.set_tail(tail);
  }
  if (!flags.since.empty()) {
    ASSIGN_OR_FAIL(absl::Time since, ParseSince(flags.since, absl::Now()));
    rpc::ToTimestamp(since, request.mutable_since());
  }
  ASSIGN_OR_FAIL(std::unique_ptr<gateway::ProcessSession> session, gateway.Logs(request));
  // With -t, each line starts with when it was written (docker's RFC3339Nano, fixed width).
  bool at_line_start[2] = {true, true};
  for (;;) {
    ASSIGN_OR_FAIL(std::optional<rt::ProcessOutput> output, session->Next());
    if (!output.has_value() || output->has_exit()) return 0;
    const bool out = output->has_stdout();
    std::string data = out ? output->stdout() : output->stderr();
    if (flags.timestamps) {
      const std::string stamp = absl::StrCat(
          absl::FormatTime("%Y-%m-%dT%H:%M:%E9SZ",
                           output->has_time() ? rpc::FromTimestamp(output->time()) : absl::Now(),
                           absl::UTCTimeZone()),
          " ");
      std::string stamped;
      bool& line_start = at_line_start[out ? 0 : 1];
      for (char c : data) {
        if (line_start) stamped += stamp;
        stamped.push_back(c);
        line_start = c == '\n';
      }
      data.swap(stamped);
    }
    if (!WriteAll(out ? STDOUT_FILENO : STDERR_FILENO, data).ok()) return kExitOutputClosed;
  }
}

// docker top: ps's columns as docker's tabwriter lays them out (cells of at least 20
// characters, 3 spaces of padding).
int Top(Globals& globals, const std::vector<std::string>& args) {
  gateway::Gateway gateway(globals.Endpoints());
  rt::TopRequest request;
  request.set_container(args[0]);
  for (size_t i = 1; i < args.size(); ++i) request.add_ps_args(args[i]);
  ASSIGN_OR_FAIL(rt::TopResponse top, gateway.TopContainer(request));
  std::vector<std::vector<std::string>> rows;
  rows.emplace_back(top.titles().begin(), top.titles().end());
  for (const rt::TopProcess& process : top.processes()) {
    rows.emplace_back(process.values().begin(), process.values().end());
  }
  // docker top's tabwriter: cells at least 20 wide.
  std::fputs(AlignColumns(rows, 20).c_str(), stdout);
  return 0;
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
  auto options = std::make_shared<PsOptions>();
  command->add_flag("-a,--all", options->all, "Show all containers (default shows just running)");
  command->add_option("-f,--filter", options->filters,
                      "Filter output based on conditions provided (status=, name=, id=, "
                      "ancestor=, label=KEY[=VALUE], exited=)")
      ->allow_extra_args(false);
  command->add_option("--format", options->format,
                      "Format output using a Go template: 'table', 'table TEMPLATE', 'json' or "
                      "'TEMPLATE'");
  command->add_flag("-q,--quiet", options->quiet, "Only display container IDs");
  command->add_flag("-s,--size", options->size, "Display total file sizes");
  command->add_flag("--no-trunc", options->no_trunc, "Don't truncate output");
  command->callback([=, &globals] { *exit_code = Ps(globals, *options); });
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

void RegisterRestartRenameTop(CLI::App& app, Globals& globals, int* exit_code) {
  auto timeout = std::make_shared<int>(10);
  RegisterForEach(
      app, globals, exit_code, "restart", "Restart one or more containers",
      [timeout](gateway::Gateway& gateway, const std::string& container) {
        rt::StopRequest request;
        request.set_container(container);
        request.set_timeout_seconds(*timeout);
        return gateway.RestartContainer(request).status();
      },
      [timeout](CLI::App* command) {
        command->add_option("-t,--time", *timeout, "Seconds to wait before killing the container")
            ->capture_default_str();
      });
  {
    CLI::App* command = app.add_subcommand("rename", "Rename a container");
    auto names = std::make_shared<std::vector<std::string>>();
    command->add_option("names", *names, "CONTAINER NEW_NAME")->required()->expected(2);
    command->callback([=, &globals] {
      gateway::Gateway gateway(globals.Endpoints());
      rt::RenameRequest request;
      request.set_container((*names)[0]);
      request.set_name((*names)[1]);
      absl::Status renamed = gateway.RenameContainer(request);
      *exit_code = renamed.ok() ? 0 : Fail(renamed);
    });
  }
  {
    CLI::App* command =
        app.add_subcommand("top", "Display the running processes of a container");
    command->prefix_command();
    command->footer("Usage: strata top CONTAINER [ps OPTIONS]");
    command->callback([=, &globals] {
      std::vector<std::string> args = command->remaining();
      if (args.empty()) {
        *exit_code = Fail("\"strata top\" requires at least 1 argument.\nUsage: strata top "
                          "CONTAINER [ps OPTIONS]");
        return;
      }
      *exit_code = Top(globals, args);
    });
  }
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
    auto flags = std::make_shared<LogsFlags>();
    auto container = std::make_shared<std::string>();
    command->add_flag("-f,--follow", flags->follow, "Follow log output");
    command->add_flag("-t,--timestamps", flags->timestamps, "Show timestamps");
    command->add_option("-n,--tail", flags->tail,
                        "Number of lines to show from the end of the logs (default \"all\")");
    command->add_option("--since", flags->since,
                        "Show logs since timestamp (e.g. \"2013-01-02T13:23:37Z\") or relative "
                        "(e.g. \"42m\" for 42 minutes)");
    command->add_option("container", *container, "CONTAINER")->required();
    command->callback([=, &globals] { *exit_code = Logs(globals, *container, *flags); });
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
  RegisterRestartRenameTop(app, globals, exit_code);
}

}  // namespace strata::cli
