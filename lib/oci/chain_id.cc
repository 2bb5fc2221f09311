#include "lib/oci/chain_id.h"

#include "absl/strings/str_cat.h"

namespace strata::oci {

Digest ChainId(const Digest& parent, const Digest& diff_id) {
  if (parent.empty()) return diff_id;
  return Digest::Of(absl::StrCat(parent.str(), " ", diff_id.str()));
}

std::vector<Digest> ChainIds(const std::vector<Digest>& diff_ids) {
  std::vector<Digest> chain_ids;
  chain_ids.reserve(diff_ids.size());
  Digest parent;
  for (const Digest& diff_id : diff_ids) {
    parent = ChainId(parent, diff_id);
    chain_ids.push_back(parent);
  }
  return chain_ids;
}

}  // namespace strata::oci
