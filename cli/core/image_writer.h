#ifndef STRATA_CLI_CORE_IMAGE_WRITER_H_
#define STRATA_CLI_CORE_IMAGE_WRITER_H_

// What every workflow that makes an image shares (import, commit; pull and load to come):
// checking the tag it will get, and recording the image in imagegraph in one transaction.
// Internal to the gateway core.

#include <memory>
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

// How long a writer's lease lasts without renewal: what a writer that died keeps its blobs
// for. The holder renews it every third of that while the writer runs.
inline constexpr absl::Duration kWriterLeaseTtl = absl::Minutes(5);

// Takes the layerstore lease a workflow writes its blobs under (every OpenWriter names
// lease->id()), so garbage collection keeps them until the image is recorded: WriteImage
// releases it. Errors: the layerstore's (UNAVAILABLE naming it, ...).
absl::StatusOr<std::unique_ptr<layerstore::LeaseHolder>> TakeLease(Services& services);

// Registers config with its layers (bottom first), parent (full id or "") and tag ("" for
// none) in imagegraph, in one transaction. With a lease: checks first that it held throughout
// (ABORTED when it expired: the blobs may be gone), and releases it once the image is recorded.
absl::StatusOr<ig::Image> WriteImage(Services& services, const oci::ImageConfig& config,
                                     const std::vector<types::v1::LayerDescriptor>& layers,
                                     const std::string& parent_id, const std::string& tag,
                                     layerstore::LeaseHolder* lease = nullptr);

// The same with the config's bytes as they are (a pulled image keeps the id it had), and
// the repository digests ("repo@sha256:<manifest>") to record with it.
absl::StatusOr<ig::Image> WriteImageBytes(Services& services, const std::string& config,
                                          const std::vector<types::v1::LayerDescriptor>& layers,
                                          const std::string& parent_id, const std::string& tag,
                                          const std::vector<std::string>& repo_digests = {},
                                          layerstore::LeaseHolder* lease = nullptr);

}  // namespace strata::gateway::internal

#endif  // STRATA_CLI_CORE_IMAGE_WRITER_H_
