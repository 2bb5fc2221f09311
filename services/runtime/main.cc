// strata-runtime: serves strata.runtime.v1 on this node.

#include <unistd.h>

#include <clocale>
#include <string>

#include "CLI/CLI.hpp"
#include "lib/base/fs.h"
#include "lib/base/log.h"
#include "lib/base/malloc_tuning.h"
#include "lib/rpc/addresses.h"
#include "lib/rpc/client.h"
#include "lib/rpc/server.h"
#include "lib/rpc/server_flags.h"
#include "services/runtime/core/runtime.h"
#include "services/runtime/layerstore_blobs.h"
#include "services/runtime/runtime_service.h"

namespace {

// strata-runtime-monitor is installed beside strata-runtime.
std::string DefaultMonitorPath() {
  char self[4096];
  ssize_t length = ::readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (length <= 0) return "strata-runtime-monitor";
  self[length] = '\0';
  const std::string dir = strata::Dirname(self);
  // In a Bazel tree the monitor sits in its own package.
  for (const std::string& candidate :
       {dir + "/strata-runtime-monitor", dir + "/monitor/strata-runtime-monitor",
        std::string(self) + ".runfiles/strata/services/runtime/monitor/strata-runtime-monitor"}) {
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return dir + "/strata-runtime-monitor";
}

}  // namespace

int main(int argc, char** argv) {
  // Layers stream through here (pulls, commits, exports) in ~1 MiB buffers.
  strata::TuneMallocForStreaming();
  // File names in layers are UTF-8: let libarchive convert them (the default "C" cannot).
  std::setlocale(LC_CTYPE, "C.UTF-8");
  strata::rpc::BlockTerminationSignals();
  CLI::App app{"strata-runtime: containers on this node (strata.runtime.v1)"};
  strata::rpc::ServerOptions server_options{.listen = strata::rpc::kDefaultRuntimeAddress};
  strata::rpc::AddServerFlags(app, server_options);
  strata::runtime::RuntimeOptions options;
  options.root = "/var/lib/strata/runtime";
  options.monitor = DefaultMonitorPath();
  app.add_option("--root", options.root, "Node state: snapshots, containers, runc state")
      ->capture_default_str();
  app.add_option("--run-dir", options.run_dir, "Sockets of the process monitors (short path)")
      ->capture_default_str();
  app.add_option("--runc", options.runc, "The runc binary")->capture_default_str();
  app.add_option("--monitor", options.monitor, "The strata-runtime-monitor binary")
      ->capture_default_str();
  app.add_option("--max-layers", options.max_layers,
                 "Most image layers a container may have (overlay mount options must fit a "
                 "page: up to about 280)")
      ->check(CLI::Range(1, 280))
      ->capture_default_str();
  strata::rpc::ClientOptions layerstore{.address = strata::rpc::kDefaultLayerstoreAddress};
  app.add_option("--layerstore", layerstore.address,
                 "Layerstore address (layers are pulled from and commits pushed to it)")
      ->envname("STRATA_LAYERSTORE")
      ->capture_default_str();
  app.add_option("--layerstore-tls-ca", layerstore.tls_ca_file, "PEM CA to verify layerstore");
  app.add_option("--layerstore-tls-cert", layerstore.tls_cert_file,
                 "PEM client certificate for layerstore (mTLS)");
  app.add_option("--layerstore-tls-key", layerstore.tls_key_file,
                 "PEM key of --layerstore-tls-cert");
  app.add_option("--layerstore-token-file", layerstore.token_file, "Bearer token for layerstore");
  CLI11_PARSE(app, argc, argv);

  // Debian puts runc in /usr/sbin, which a service's PATH may lack.
  if (options.runc.find('/') == std::string::npos) {
    for (const char* dir :
         {"/usr/sbin/", "/usr/bin/", "/sbin/", "/usr/local/sbin/", "/usr/local/bin/"}) {
      const std::string candidate = dir + options.runc;
      if (::access(candidate.c_str(), X_OK) == 0) {
        options.runc = candidate;
        break;
      }
    }
  }
  if (::geteuid() != 0) {
    STRATA_LOG(ERROR) << "strata-runtime must run as root: it mounts overlays and runs runc";
    return 1;
  }
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = strata::rpc::Dial(layerstore);
  if (!channel.ok()) {
    STRATA_LOG(ERROR) << "--layerstore: " << channel.status().message();
    return 1;
  }
  strata::runtime::LayerstoreBlobs blobs(*channel);
  absl::StatusOr<std::unique_ptr<strata::runtime::Runtime>> runtime =
      strata::runtime::Runtime::Open(options, &blobs);
  if (!runtime.ok()) {
    STRATA_LOG(ERROR) << runtime.status();
    return 1;
  }
  strata::runtime::RuntimeService service(runtime->get());
  return strata::rpc::ServeUntilSignalled(
      "strata-runtime", server_options,
      {{strata::runtime::v1::Runtime::service_full_name(), &service}});
}
