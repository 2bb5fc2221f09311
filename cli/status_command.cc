// strata status: the health of each service, with its address. Exit code 1 when any service
// is not SERVING.

#include <cstdio>
#include <string>

#include "absl/strings/str_format.h"
#include "cli/commands.h"
#include "lib/rpc/health.h"

namespace strata::cli {

void RegisterStatusCommand(CLI::App& app, Globals& globals, int* exit_code) {
  CLI::App* command = app.add_subcommand("status", "Show whether each service is serving");
  command->callback([&globals, exit_code] {
    struct Row {
      const char* name;
      const char* grpc_service;
      std::string address;
    };
    const Row rows[] = {
        {"layerstore", "strata.layerstore.v1.LayerStore", globals.layerstore},
        {"imagegraph", "strata.imagegraph.v1.ImageGraph", globals.imagegraph},
        {"runtime", "strata.runtime.v1.Runtime", globals.runtime},
        {"gateway", "strata.gateway.v1.Gateway", globals.gateway},
    };
    std::printf("%-12s %-34s %s\n", "SERVICE", "ADDRESS", "STATUS");
    bool all_serving = true;
    for (const Row& row : rows) {
      std::string status;
      auto channel = globals.Dial(row.address);
      if (!channel.ok()) {
        status = absl::StrFormat("DOWN (%s)", channel.status().message());
      } else {
        auto health = rpc::CheckHealth(*channel, row.grpc_service);
        if (health.ok()) {
          status = *health;
        } else if (health.status().code() == absl::StatusCode::kUnavailable ||
                   health.status().code() == absl::StatusCode::kDeadlineExceeded) {
          status = absl::StrFormat("DOWN (%s)", health.status().message());
        } else {
          status = absl::StrFormat("ERROR (%s)", health.status().ToString());
        }
      }
      if (status != "SERVING") all_serving = false;
      std::printf("%-12s %-34s %s\n", row.name, row.address.c_str(), status.c_str());
    }
    *exit_code = all_serving ? 0 : 1;
  });
}

}  // namespace strata::cli
