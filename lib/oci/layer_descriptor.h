#ifndef STRATA_LIB_OCI_LAYER_DESCRIPTOR_H_
#define STRATA_LIB_OCI_LAYER_DESCRIPTOR_H_

// A layer as Strata records it: its blob in layerstore (digest, media type, size) and what is
// inside (the diff id and size of the uncompressed tar). The C++ twin of
// strata.types.v1.LayerDescriptor; lib/convert converts between the two.

#include <cstdint>
#include <string>

#include "lib/digest/digest.h"

namespace strata::oci {

struct LayerDescriptor {
  // Of the blob as stored (compressed).
  Digest digest;
  // Of the uncompressed layer tar.
  Digest diff_id;
  // One of the layer media types of media_types.h.
  std::string media_type;
  // Bytes of the blob as stored.
  int64_t size = 0;
  // Bytes of the uncompressed tar.
  int64_t uncompressed_size = 0;
};

}  // namespace strata::oci

#endif  // STRATA_LIB_OCI_LAYER_DESCRIPTOR_H_
