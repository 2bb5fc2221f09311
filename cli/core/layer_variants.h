#ifndef STRATA_CLI_CORE_LAYER_VARIANTS_H_
#define STRATA_CLI_CORE_LAYER_VARIANTS_H_

// A layer in another compression than the one it is stored in (gzip for an oci-archive, say),
// as a layerstore blob: the one place that makes such variants, so that recording and reusing
// them (across saves and pushes) has one home. Today a variant is made by streaming the
// stored blob through decompression and the new compressor into a new layerstore upload, its
// diff id checked on the way. Internal to the gateway core.

#include "absl/status/statusor.h"
#include "cli/core/services.h"
#include "lib/layer/compression.h"
#include "strata/types/v1/types.pb.h"

namespace strata::gateway::internal {

// `layer` itself when it is stored in `to`; else the descriptor of a blob holding the same
// uncompressed tar in compression `to` (digest, size, media type changed; diff id kept).
// Errors: INVALID_ARGUMENT (a compression Strata does not write), DATA_LOSS (the stored
// blob's bytes do not have its diff id), the services'.
absl::StatusOr<types::v1::LayerDescriptor> LayerInCompression(
    Services& services, const types::v1::LayerDescriptor& layer, layer::Compression to);

}  // namespace strata::gateway::internal

#endif  // STRATA_CLI_CORE_LAYER_VARIANTS_H_
