#ifndef STRATA_CLI_INSPECT_JSON_H_
#define STRATA_CLI_INSPECT_JSON_H_

// What `strata inspect` prints, and what its -f templates see: docker's inspect JSON, with
// its keys in docker's order (api/types ImageInspect and ContainerJSON), so tools that parse
// `docker inspect` and templates such as {{.RootFS.Layers}} or {{.State.Status}} work.
// Strata's own facts (chain ids, compressed sizes, children, the config's history) are under
// the one key "Strata".

#include "absl/status/statusor.h"
#include "cli/template.h"
#include "strata/imagegraph/v1/imagegraph.pb.h"
#include "strata/runtime/v1/runtime.pb.h"

namespace strata::cli {

// Errors: DATA_LOSS (the stored config is not JSON, or its fields have the wrong types).
absl::StatusOr<Json> ImageInspectJson(const imagegraph::v1::Image& image);

Json ContainerInspectJson(const runtime::v1::Container& container);

// docker's container.Config from an OCI config's "config" object (null when absent).
Json DockerRunConfig(const Json& oci_config);

}  // namespace strata::cli

#endif  // STRATA_CLI_INSPECT_JSON_H_
