// Load on the multi-host topology (tests/multihost/topology.h: two imagegraph and two
// layerstore replicas, three nodes with private disks, mTLS): on every node, --loops loops
// run for --seconds, each repeating what a user does: run a container that changes a file,
// commit it, run the new image (on the next node, so the layer crosses nodes) and check what
// it prints, remove the container. Prints commits per second, p50/p99 latency of commit and
// of the cross-node run, and the errors (there must be none: the exit code is 1 otherwise).

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "tests/multihost/topology.h"

namespace {

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t index = static_cast<size_t>(p * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(index, values.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"multihost_bench: commit+run loops on every node of the multi-host topology"};
  int seconds = 30;
  int loops = 2;
  app.add_option("--seconds", seconds, "How long the loops run")->capture_default_str();
  app.add_option("--loops", loops, "Parallel loops per node")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  auto topology = strata::multihost::Topology::Start();
  if (!topology.ok()) {
    std::fprintf(stderr, "topology: %s\n", topology.status().ToString().c_str());
    return 1;
  }
  strata::multihost::Topology& hosts = **topology;
  auto tarball = hosts.BusyboxTarball();
  if (!tarball.ok() || hosts.Strata(0, {"import", *tarball, "base"}).exit_code != 0) {
    std::fprintf(stderr, "could not import the base image\n");
    return 1;
  }
  // Every node unpacks base once before the clock starts.
  for (int node = 0; node < hosts.nodes(); ++node)
    hosts.Strata(node, {"run", "--rm", "base", "true"});

  absl::Mutex mu;
  std::vector<double> commit_ms, run_ms;
  std::vector<std::string> errors;
  std::atomic<int> commits{0};
  const absl::Time started = absl::Now();
  const absl::Time deadline = started + absl::Seconds(seconds);
  std::vector<std::thread> threads;
  for (int node = 0; node < hosts.nodes(); ++node) {
    for (int loop = 0; loop < loops; ++loop) {
      threads.emplace_back([&, node, loop] {
        const int next = (node + 1) % hosts.nodes();
        for (int i = 0; absl::Now() < deadline; ++i) {
          const std::string name = absl::StrCat("load-", node, "-", loop, "-", i);
          auto fail = [&](const std::string& step, const strata::CommandResult& result) {
            absl::MutexLock lock(&mu);
            errors.push_back(absl::StrCat(name, " ", step, ": ", result.error_output));
          };
          strata::CommandResult made = hosts.Strata(
              node, {"run", "--name", name, "base", "sh", "-c", "echo " + name + " > /who"});
          if (made.exit_code != 0) {
            fail("run", made);
            continue;
          }
          absl::Time t0 = absl::Now();
          strata::CommandResult committed =
              hosts.Strata(node, {"commit", name, absl::StrCat("load:", node, "-", loop)});
          const double commit = absl::ToDoubleMilliseconds(absl::Now() - t0);
          hosts.Strata(node, {"rm", name});
          if (committed.exit_code != 0) {
            fail("commit", committed);
            continue;
          }
          ++commits;
          const std::string id(absl::StripAsciiWhitespace(committed.output));
          t0 = absl::Now();
          strata::CommandResult ran = hosts.Strata(next, {"run", "--rm", id, "cat", "/who"});
          const double run = absl::ToDoubleMilliseconds(absl::Now() - t0);
          if (ran.exit_code != 0 || ran.output != name + "\n") {
            ran.error_output += " (printed \"" + ran.output + "\")";
            fail("run on the next node", ran);
            continue;
          }
          absl::MutexLock lock(&mu);
          commit_ms.push_back(commit);
          run_ms.push_back(run);
        }
      });
    }
  }
  for (std::thread& thread : threads) thread.join();
  const double elapsed = absl::ToDoubleSeconds(absl::Now() - started);

  std::printf("nodes %d x loops %d for %.1f s\n", hosts.nodes(), loops, elapsed);
  std::printf("commits: %d (%.2f per second)\n", commits.load(), commits.load() / elapsed);
  std::printf("commit latency: p50 %.0f ms, p99 %.0f ms\n", Percentile(commit_ms, 0.5),
              Percentile(commit_ms, 0.99));
  std::printf("run on another node (fetch + unpack + run): p50 %.0f ms, p99 %.0f ms\n",
              Percentile(run_ms, 0.5), Percentile(run_ms, 0.99));
  std::printf("errors: %zu\n", errors.size());
  for (const std::string& error : errors) std::printf("  %s\n", error.c_str());
  return errors.empty() ? 0 : 1;
}
