#ifndef STRATA_CLI_CORE_LAYER_VARIANTS_H_
#define STRATA_CLI_CORE_LAYER_VARIANTS_H_

// A layer's content in more than one compression. Strata stores layers zstd by default while
// registries and archive readers often want gzip: the conversion streams the stored blob
// through decompression and the new compressor into a new layerstore upload (its diff id
// checked on the way, every core compressing), and its result is kept in layerstore and
// recorded in imagegraph as a blob variant (diff id -> digest, strata.imagegraph.v1
// PutBlobVariant), so the next push or save of that layer reuses it. The same records say
// which registry repositories hold a blob (pulled from or pushed to): push mounts from them.
// The one place that makes and finds variants. Internal to the gateway core (push, save).

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cli/core/services.h"
#include "lib/digest/digest.h"
#include "lib/layer/compression.h"
#include "strata/types/v1/types.pb.h"

namespace strata::gateway::internal {

// `layer` itself when it is stored in `to`; else a blob in layerstore holding the same
// uncompressed tar in compression `to` (digest, size, media type changed; diff id kept): a
// variant recorded earlier that layerstore still has, else a conversion made now, stored and
// recorded. *converted (when given) says whether it was made now.
// Errors: INVALID_ARGUMENT (a compression Strata does not write), DATA_LOSS (the stored
// blob's bytes do not have its diff id), the services'.
absl::StatusOr<types::v1::LayerDescriptor> LayerInCompression(
    Services& services, const types::v1::LayerDescriptor& layer, layer::Compression to,
    bool* converted = nullptr);

// The first half of LayerInCompression: `layer` itself or a kept variant, nullopt when a
// conversion is needed. Errors: INVALID_ARGUMENT (an unknown media type), the services'.
absl::StatusOr<std::optional<types::v1::LayerDescriptor>> StoredLayerInCompression(
    Services& services, const types::v1::LayerDescriptor& layer, layer::Compression to);

// The second half: converts, stores and records the variant now. When `also` is given, the
// compressed bytes go there too as they are made (a registry upload streaming alongside), and
// it is closed once they all went. Errors: those of LayerInCompression.
absl::StatusOr<types::v1::LayerDescriptor> ConvertLayer(Services& services,
                                                        const types::v1::LayerDescriptor& layer,
                                                        layer::Compression to,
                                                        layer::ByteSink* also = nullptr);

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
