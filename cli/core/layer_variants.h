#ifndef STRATA_CLI_CORE_LAYER_VARIANTS_H_
#define STRATA_CLI_CORE_LAYER_VARIANTS_H_

// A layer's content in more than one compression. Strata stores layers zstd by default while
// registries and archive readers often want gzip: the conversion streams (and uses every
// core), and its result is kept in layerstore and recorded in imagegraph as a blob variant
// (diff id -> gzip digest), so the next push or save of that layer reuses it. The same
// records say which registry repositories hold a blob (pulled from or pushed to), which push
// uses for cross-repository mounts. Internal to the gateway core (push, save).

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cli/core/services.h"
#include "lib/digest/digest.h"
#include "lib/layer/compression.h"
#include "strata/types/v1/types.pb.h"

namespace strata::gateway::internal {

struct LayerInCompressionResult {
  // The blob in the compression asked for (in layerstore); diff id and uncompressed size as
  // the layer's.
  types::v1::LayerDescriptor blob;
  // True when it was converted now (false: the layer itself, or a variant kept earlier).
  bool converted = false;
};

// The layer's blob compressed with `to`, in layerstore: the layer's own blob when it is so
// compressed, a variant recorded earlier that layerstore still has, else a streaming
// conversion that is stored and recorded for the next caller.
// Errors: those of layerstore and imagegraph; DATA_LOSS (the stored blob is damaged or its
// content is not the layer's diff id).
absl::StatusOr<LayerInCompressionResult> LayerInCompression(Services& services,
                                                            const types::v1::LayerDescriptor& layer,
                                                            layer::Compression to);

// Records that the registry repository (full name: "localhost:5000/team/app") holds blob, a
// variant of the layer content blob.diff_id(). Errors: those of imagegraph.
absl::Status RecordRegistryBlob(Services& services, const types::v1::LayerDescriptor& blob,
                                const std::string& full_repository);

// Repositories (paths, "team/app") of the registry `domain` known to hold the blob, most
// recent first, without `except` (a path). Errors: those of imagegraph.
absl::StatusOr<std::vector<std::string>> RepositoriesWithBlob(Services& services,
                                                              const Digest& digest,
                                                              const std::string& domain,
                                                              const std::string& except);

}  // namespace strata::gateway::internal

#endif  // STRATA_CLI_CORE_LAYER_VARIANTS_H_
