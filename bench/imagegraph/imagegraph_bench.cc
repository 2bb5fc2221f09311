// imagegraph_bench: latency of strata-imagegraph over loopback gRPC.
//
// Starts a private PostgreSQL (lib/testing PostgresServer) and the real strata-imagegraph
// binary, loads --images images of --layers layers each through CreateImage (several client
// threads, one transaction per image with the layers batched into one statement), then
// measures GetImage by tag, GetImage by 12-digit id prefix and History, each over --samples
// calls on random images, with one client and with --clients concurrent clients, and prints
// p50 / p90 / p99 / max per operation. After the load it runs ANALYZE, as autovacuum would
// within a minute of a bulk load.
//
// The data: families of --family-size images; the images of a family share their first
// layers-1 layers and each adds one of its own, and each is committed from the previous one
// (so History walks a parent chain of up to family-size images). Every image has one tag,
// "bench/f<family>:v<index>".

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpcpp/client_context.h"
#include "lib/digest/digest.h"
#include "lib/oci/image_config.h"
#include "lib/oci/media_types.h"
#include "lib/rpc/client.h"
#include "lib/testing/postgres.h"
#include "lib/testing/service_process.h"
#include "pqxx/pqxx"
#include "strata/imagegraph/v1/imagegraph.grpc.pb.h"

namespace strata {
namespace {

namespace pb = ::strata::imagegraph::v1;

struct Options {
  int images = 10000;
  int layers = 20;
  int family_size = 10;
  int samples = 5000;
  int clients = 4;
  int load_threads = 4;
  int connections = 8;
  std::string imagegraph = "services/imagegraph/strata-imagegraph";
  // An imagegraph already running (with an empty database): no PostgreSQL or binary started.
  std::string address;
};

std::string TagOf(int family, int index) {
  return absl::StrCat("bench/f", family, ":v", index);
}

// The CreateImage request of image `index` of `family`, committed from `parent_id`.
pb::CreateImageRequest MakeImage(const Options& options, int family, int index,
                                 const std::string& parent_id) {
  const absl::Time created = absl::FromUnixSeconds(1700000000) +
                             absl::Seconds(family * options.family_size + index);
  oci::ImageConfig config;
  config.set_created(oci::FormatRfc3339(created));
  oci::RunConfig run;
  run.env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"};
  run.cmd = std::vector<std::string>{"/bin/sh"};
  run.working_dir = "/srv";
  config.set_run_config(run);
  pb::CreateImageRequest request;
  for (int i = 0; i < options.layers; ++i) {
    const bool own = i == options.layers - 1;
    const Digest diff_id =
        Digest::Of(own ? absl::StrCat("bench f", family, " image ", index, " layer")
                       : absl::StrCat("bench f", family, " layer ", i));
    oci::History step;
    step.created = oci::FormatRfc3339(created);
    step.created_by = own ? absl::StrCat("/bin/sh -c make step-", index)
                          : absl::StrCat("/bin/sh -c #(nop) ADD file:", diff_id.ShortHex(),
                                         " in /usr/share/layer", i);
    step.author = "bench";
    step.comment = own ? "committed by imagegraph_bench" : "";
    config.AddLayer(diff_id, step);
    types::v1::LayerDescriptor* layer = request.add_layers();
    layer->set_digest(Digest::Of(absl::StrCat("blob ", diff_id.str())).str());
    layer->set_diff_id(diff_id.str());
    layer->set_media_type(oci::kMediaTypeLayerZstd);
    layer->set_size(1000 + 37 * i);
    layer->set_uncompressed_size(4000 + 113 * i);
  }
  request.set_config(config.Serialize());
  request.set_parent_id(parent_id);
  request.add_tags(TagOf(family, index));
  return request;
}

struct Loaded {
  // Image ids by family * family_size + index.
  std::vector<std::string> ids;
  absl::Duration elapsed;
  int errors = 0;
};

Loaded Load(const Options& options, pb::ImageGraph::Stub& stub) {
  const int families = (options.images + options.family_size - 1) / options.family_size;
  Loaded loaded;
  loaded.ids.resize(options.images);
  std::atomic<int> next_family{0};
  std::atomic<int> errors{0};
  std::atomic<int> done{0};
  const absl::Time start = absl::Now();
  std::vector<std::thread> threads;
  for (int t = 0; t < options.load_threads; ++t) {
    threads.emplace_back([&] {
      for (int family = next_family++; family < families; family = next_family++) {
        std::string parent;
        for (int index = 0; index < options.family_size; ++index) {
          const int n = family * options.family_size + index;
          if (n >= options.images) break;
          grpc::ClientContext context;
          pb::CreateImageResponse response;
          grpc::Status status =
              stub.CreateImage(&context, MakeImage(options, family, index, parent), &response);
          if (!status.ok()) {
            if (errors++ < 5) {
              std::fprintf(stderr, "CreateImage: %s\n", status.error_message().c_str());
            }
            break;
          }
          parent = response.image().id();
          loaded.ids[n] = parent;
          const int count = ++done;
          if (count % 1000 == 0) {
            std::fprintf(stderr, "  loaded %d images\n", count);
          }
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  loaded.elapsed = absl::Now() - start;
  loaded.errors = errors;
  return loaded;
}

struct Stats {
  std::vector<double> micros;
  int errors = 0;
};

double Percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  size_t rank = static_cast<size_t>(std::ceil(p * sorted.size()));
  return sorted[std::min(sorted.size(), std::max<size_t>(rank, 1)) - 1];
}

// Runs op `samples` times over `clients` threads on random images; latencies in microseconds.
Stats Measure(int samples, int clients, int images,
              const std::function<grpc::Status(int image)>& op) {
  Stats stats;
  absl::Mutex mu;
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      std::mt19937 random(1234 + c);
      std::uniform_int_distribution<int> pick(0, images - 1);
      std::vector<double> local;
      int errors = 0;
      for (int i = 0; i < 100 / clients + 1; ++i) (void)op(pick(random));  // warm-up
      for (int i = c; i < samples; i += clients) {
        const int image = pick(random);
        const auto start = std::chrono::steady_clock::now();
        grpc::Status status = op(image);
        const auto end = std::chrono::steady_clock::now();
        if (!status.ok()) {
          if (errors++ < 3) std::fprintf(stderr, "error: %s\n", status.error_message().c_str());
          continue;
        }
        local.push_back(std::chrono::duration<double, std::micro>(end - start).count());
      }
      absl::MutexLock lock(&mu);
      stats.micros.insert(stats.micros.end(), local.begin(), local.end());
      stats.errors += errors;
    });
  }
  for (std::thread& thread : threads) thread.join();
  std::sort(stats.micros.begin(), stats.micros.end());
  return stats;
}

void Print(const std::string& name, int clients, const Stats& stats) {
  std::printf("%-22s %7d %6d %9.3f %9.3f %9.3f %9.3f %6d\n", name.c_str(), clients,
              static_cast<int>(stats.micros.size()), Percentile(stats.micros, 0.50) / 1000,
              Percentile(stats.micros, 0.90) / 1000, Percentile(stats.micros, 0.99) / 1000,
              stats.micros.empty() ? 0.0 : stats.micros.back() / 1000, stats.errors);
}

int Main(int argc, char** argv) {
  Options options;
  CLI::App app{"imagegraph_bench: strata-imagegraph latency over loopback gRPC"};
  app.add_option("--images", options.images, "images to load")->capture_default_str();
  app.add_option("--layers", options.layers, "layers per image")->capture_default_str();
  app.add_option("--family-size", options.family_size, "images per parent chain")
      ->capture_default_str();
  app.add_option("--samples", options.samples, "calls measured per operation")
      ->capture_default_str();
  app.add_option("--clients", options.clients, "concurrent clients of the second round")
      ->capture_default_str();
  app.add_option("--load-threads", options.load_threads, "clients loading the data")
      ->capture_default_str();
  app.add_option("--database-connections", options.connections,
                 "strata-imagegraph --database-connections")
      ->capture_default_str();
  app.add_option("--imagegraph", options.imagegraph, "the strata-imagegraph binary")
      ->capture_default_str();
  app.add_option("--address", options.address,
                 "use this running strata-imagegraph (empty database) instead of starting one");
  CLI11_PARSE(app, argc, argv);
  if (options.images < 1 || options.layers < 1 || options.family_size < 1 ||
      options.samples < 1 || options.clients < 1 || options.load_threads < 1) {
    std::fprintf(stderr, "every count must be at least 1\n");
    return 2;
  }

  std::unique_ptr<testing::PostgresServer> postgres;
  std::unique_ptr<testing::ServiceProcess> process;
  std::string address = options.address;
  if (address.empty()) {
    auto started = testing::PostgresServer::Start();
    if (!started.ok()) {
      std::fprintf(stderr, "PostgreSQL: %s\n", std::string(started.status().message()).c_str());
      return 1;
    }
    postgres = *std::move(started);
    if (auto status = postgres->CreateDatabase("bench"); !status.ok()) {
      std::fprintf(stderr, "createdb: %s\n", std::string(status.message()).c_str());
      return 1;
    }
    auto service = testing::ServiceProcess::Start(
        options.imagegraph, {"--database=" + postgres->connection_string("bench"),
                             absl::StrCat("--database-connections=", options.connections)});
    if (!service.ok()) {
      std::fprintf(stderr, "strata-imagegraph: %s\n",
                   std::string(service.status().message()).c_str());
      return 1;
    }
    process = *std::move(service);
    address = process->address();
  }
  auto channel = rpc::Dial({.address = address});
  if (!channel.ok()) return 1;
  std::unique_ptr<pb::ImageGraph::Stub> stub = pb::ImageGraph::NewStub(*channel);

  std::fprintf(stderr, "loading %d images of %d layers (families of %d) with %d clients...\n",
               options.images, options.layers, options.family_size, options.load_threads);
  Loaded loaded = Load(options, *stub);
  if (loaded.errors > 0) {
    std::fprintf(stderr, "%d CreateImage calls failed\n", loaded.errors);
    return 1;
  }
  std::printf("loaded %d images (%d layers each) in %.1f s: %.0f images/s\n", options.images,
              options.layers, absl::ToDoubleSeconds(loaded.elapsed),
              options.images / absl::ToDoubleSeconds(loaded.elapsed));

  if (postgres != nullptr) {
    // What autovacuum does within a minute of a bulk load; done now so that the measurement
    // does not depend on when it wakes up.
    try {
      pqxx::connection connection(postgres->connection_string("bench"));
      pqxx::nontransaction tx(connection);
      tx.exec("ANALYZE");
    } catch (const std::exception& e) {
      std::fprintf(stderr, "ANALYZE: %s\n", e.what());
      return 1;
    }
  }

  auto tag_of = [&](int n) { return TagOf(n / options.family_size, n % options.family_size); };
  auto get_by_tag = [&](int n) {
    grpc::ClientContext context;
    pb::GetImageRequest request;
    request.set_ref(tag_of(n));
    pb::GetImageResponse response;
    grpc::Status status = stub->GetImage(&context, request, &response);
    if (status.ok() && response.image().layers_size() != options.layers) {
      return grpc::Status(grpc::StatusCode::INTERNAL, "wrong layer count");
    }
    return status;
  };
  auto get_by_prefix = [&](int n) {
    grpc::ClientContext context;
    pb::GetImageRequest request;
    request.set_ref(loaded.ids[n].substr(7, 12));
    pb::GetImageResponse response;
    grpc::Status status = stub->GetImage(&context, request, &response);
    if (status.ok() && response.image().id() != loaded.ids[n]) {
      return grpc::Status(grpc::StatusCode::INTERNAL, "wrong image");
    }
    return status;
  };
  auto history = [&](int n) {
    grpc::ClientContext context;
    pb::HistoryRequest request;
    request.set_ref(tag_of(n));
    pb::HistoryResponse response;
    grpc::Status status = stub->History(&context, request, &response);
    if (status.ok() && (response.entries_size() != options.layers ||
                        response.entries(0).image_id() != loaded.ids[n])) {
      return grpc::Status(grpc::StatusCode::INTERNAL, "wrong history");
    }
    return status;
  };

  std::printf("\n%-22s %7s %6s %9s %9s %9s %9s %6s\n", "operation (ms)", "clients", "calls",
              "p50", "p90", "p99", "max", "errors");
  int errors = 0;
  for (int clients : {1, options.clients}) {
    for (const auto& [name, op] :
         std::vector<std::pair<std::string, std::function<grpc::Status(int)>>>{
             {"GetImage by tag", get_by_tag},
             {"GetImage by prefix", get_by_prefix},
             {"History", history}}) {
      Stats stats = Measure(options.samples, clients, options.images, op);
      Print(name, clients, stats);
      errors += stats.errors;
    }
    if (options.clients == 1) break;
  }
  std::fflush(stdout);
  return errors == 0 ? 0 : 1;
}

}  // namespace
}  // namespace strata

int main(int argc, char** argv) { return strata::Main(argc, argv); }
