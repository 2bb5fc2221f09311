#ifndef STRATA_LIB_OCI_CHAIN_ID_H_
#define STRATA_LIB_OCI_CHAIN_ID_H_

// Chain ids name a stack of layers (OCI image-spec, "Layer ChainID"):
//   chain(L1) = diffid(L1)
//   chain(Ln) = sha256(chain(Ln-1) + " " + diffid(Ln))

#include <vector>

#include "lib/digest/digest.h"

namespace strata::oci {

// The chain id of diff_id stacked on the layers named by parent (empty: a base layer).
Digest ChainId(const Digest& parent, const Digest& diff_id);

// The chain id of every prefix of diff_ids (bottom first), same order.
std::vector<Digest> ChainIds(const std::vector<Digest>& diff_ids);

}  // namespace strata::oci

#endif  // STRATA_LIB_OCI_CHAIN_ID_H_
