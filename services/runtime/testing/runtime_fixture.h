#ifndef STRATA_SERVICES_RUNTIME_TESTING_RUNTIME_FIXTURE_H_
#define STRATA_SERVICES_RUNTIME_TESTING_RUNTIME_FIXTURE_H_

// A runtime to test against: a real strata-layerstore on port 0, a Runtime over a fresh state
// directory with the real monitor and runc, and busybox images (from Debian's busybox-static)
// pushed as real layers.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/testing/service_process.h"
#include "lib/testing/temp_dir.h"
#include "services/runtime/core/runtime.h"
#include "services/runtime/layerstore_blobs.h"

namespace strata::runtime::testing {

// Fills dir with a minimal busybox root file system: /bin/busybox and its applets as
// symlinks, /etc/passwd and /etc/group (root and a user "app" 1000:1000), /tmp, /root.
void BuildBusyboxRootfs(const std::string& dir);

struct ProcessResult {
  std::string stdout_text;
  std::string stderr_text;
  int exit_code = -1;
};

// Reads a process stream to its exit.
absl::StatusOr<ProcessResult> Collect(ProcessStream* stream);

class RuntimeFixture {
 public:
  // Starts layerstore and opens a Runtime. Aborts the test on failure.
  RuntimeFixture();
  ~RuntimeFixture();

  Runtime& runtime() { return *runtime_; }
  BlobStore& blobs() { return *blobs_; }
  const std::string& root() const { return root_; }

  // Destroys the Runtime and opens it again on the same state (a service restart), with
  // another blob store when one is given (not owned).
  void RestartRuntime(int max_layers = 200, BlobStore* blobs = nullptr);

  const std::string& layerstore_address() const { return layerstore_->address(); }

  // Pushes a directory as a layer (zstd).
  absl::StatusOr<oci::LayerDescriptor> PushLayer(const std::string& dir);

  // The busybox base layer (pushed once per fixture).
  oci::LayerDescriptor BusyboxLayer();

  // Creates a container from layers running args.
  absl::StatusOr<ContainerRecord> CreateContainer(const std::vector<oci::LayerDescriptor>& layers,
                                                  const std::vector<std::string>& args,
                                                  const std::string& name = "",
                                                  bool tty = false, bool stdin = false);

  // Creates, starts and waits for a busybox container running args; returns its output.
  absl::StatusOr<ProcessResult> Run(const std::vector<oci::LayerDescriptor>& layers,
                                    const std::vector<std::string>& args);

 private:
  void OpenRuntime(int max_layers, BlobStore* blobs);

  strata::testing::TempDir dir_{"runtime"};
  std::string root_;
  std::string run_dir_;
  std::unique_ptr<strata::testing::ServiceProcess> layerstore_;
  std::unique_ptr<LayerstoreBlobs> blobs_;
  std::unique_ptr<Runtime> runtime_;
  std::optional<oci::LayerDescriptor> busybox_;
};

}  // namespace strata::runtime::testing

#endif  // STRATA_SERVICES_RUNTIME_TESTING_RUNTIME_FIXTURE_H_
