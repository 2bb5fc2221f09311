#ifndef STRATA_CLI_CORE_IMAGE_WRITER_H_
#define STRATA_CLI_CORE_IMAGE_WRITER_H_

// What every workflow that makes an image shares (import, commit; pull and load to come):
// checking the tag it will get, and recording the image in imagegraph in one transaction.
// Internal to the gateway core.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cli/core/services.h"
#include "lib/oci/image_config.h"
#include "strata/types/v1/types.pb.h"

namespace strata::gateway::internal {

// "" for none, else the normalized "repo:tag" a new image may be tagged with.
// Errors: INVALID_ARGUMENT naming the rule broken (a digest is not a tag, say).
absl::StatusOr<std::string> TargetTag(const std::string& text);

// Registers config with its layers (bottom first), parent (full id or "") and tag ("" for
// none) in imagegraph, in one transaction.
absl::StatusOr<ig::Image> WriteImage(Services& services, const oci::ImageConfig& config,
                                     const std::vector<types::v1::LayerDescriptor>& layers,
                                     const std::string& parent_id, const std::string& tag);

// The same with the config's bytes as they are (a pulled image keeps the id it had), and
// the repository digests ("repo@sha256:<manifest>") to record with it.
absl::StatusOr<ig::Image> WriteImageBytes(Services& services, const std::string& config,
                                          const std::vector<types::v1::LayerDescriptor>& layers,
                                          const std::string& parent_id, const std::string& tag,
                                          const std::vector<std::string>& repo_digests = {});

}  // namespace strata::gateway::internal

#endif  // STRATA_CLI_CORE_IMAGE_WRITER_H_
