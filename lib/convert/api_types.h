#ifndef STRATA_LIB_CONVERT_API_TYPES_H_
#define STRATA_LIB_CONVERT_API_TYPES_H_

// The one conversion between each shared API message (strata.types.v1) and its C++ twin:
//   RunConfig        <-> oci::RunConfig
//   LayerDescriptor  <-> oci::LayerDescriptor
// Messages that come from a client are checked on the way in.

#include "absl/status/statusor.h"
#include "lib/oci/image_config.h"
#include "lib/oci/layer_descriptor.h"
#include "strata/types/v1/types.pb.h"

namespace strata::convert {

void ToProto(const oci::RunConfig& config, types::v1::RunConfig* out);
// An empty entrypoint or cmd list reads as absent (the wire has no presence for lists).
oci::RunConfig FromProto(const types::v1::RunConfig& config);

void ToProto(const oci::LayerDescriptor& layer, types::v1::LayerDescriptor* out);
// Errors: INVALID_ARGUMENT (malformed digest or diff id, negative size), naming the layer.
absl::StatusOr<oci::LayerDescriptor> FromProto(const types::v1::LayerDescriptor& layer);

}  // namespace strata::convert

#endif  // STRATA_LIB_CONVERT_API_TYPES_H_
