#ifndef STRATA_SERVICES_RUNTIME_CORE_CONTAINER_H_
#define STRATA_SERVICES_RUNTIME_CORE_CONTAINER_H_

// A container's record: everything the node keeps about it, stored as JSON in its directory.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "lib/digest/digest.h"
#include "services/runtime/core/run_spec.h"

namespace strata::runtime {

enum class ContainerState { kCreated, kRunning, kPaused, kExited };

const char* StateName(ContainerState state);

// One image layer as the runtime needs it.
struct LayerRef {
  Digest digest;
  Digest diff_id;
  // Of this layer and all below it.
  Digest chain_id;
  std::string media_type;
  int64_t size = 0;
  int64_t uncompressed_size = 0;
};

// A bind mount or tmpfs of a container (docker's -v, --mount, --tmpfs).
struct MountSpec {
  // "bind" or "tmpfs".
  std::string type;
  std::string source;
  // Absolute, cleaned, inside the container.
  std::string target;
  bool readonly = false;
  std::vector<std::string> options;
  // bind: create a missing source directory (-v).
  bool create_source = false;
};

struct ContainerRecord {
  // 64 hex digits.
  std::string id;
  std::string name;
  std::string image_id;
  std::string image_ref;
  // Bottom first.
  std::vector<LayerRef> layers;
  // The merged configuration and the command line it gives.
  oci::RunConfig spec;
  std::vector<std::string> args;
  bool tty = false;
  bool open_stdin = false;
  // "host" or "none".
  std::string network = "host";
  std::string hostname;
  absl::Time created = absl::InfinitePast();
  absl::Time started = absl::InfinitePast();
  absl::Time finished = absl::InfinitePast();
  ContainerState state = ContainerState::kCreated;
  int exit_code = 0;
  // The main process's host pid while running.
  int pid = 0;
  std::string error;
  // Short name of the init layer's link (see Snapshotter).
  std::string init_link;
  std::vector<MountSpec> mounts;
  // docker's --rm: the runtime removes the container once its process exits.
  bool auto_remove = false;
};

std::string RecordToJson(const ContainerRecord& record);
// Errors: DATA_LOSS for a record that does not parse.
absl::StatusOr<ContainerRecord> RecordFromJson(const std::string& json);

}  // namespace strata::runtime

#endif  // STRATA_SERVICES_RUNTIME_CORE_CONTAINER_H_
