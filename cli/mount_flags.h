#ifndef STRATA_CLI_MOUNT_FLAGS_H_
#define STRATA_CLI_MOUNT_FLAGS_H_

// docker's mount flags of run and create, parsed into strata.types.v1.Mount:
//   -v, --volume HOST:CONTAINER[:ro|rw]   a bind mount; a missing HOST directory is made
//   --mount type=bind,source=S,target=T[,readonly]   a bind mount; S must exist
//   --mount type=tmpfs,target=T[,tmpfs-size=N][,tmpfs-mode=M]
//   --tmpfs PATH[:OPTIONS]                 a tmpfs (noexec,nosuid,nodev unless overridden)
// Named and anonymous volumes do not exist in Strata: they are refused, naming the remedy.

#include <string>

#include "absl/status/statusor.h"
#include "strata/types/v1/types.pb.h"

namespace strata::cli {

// Errors: INVALID_ARGUMENT in docker's words ("invalid mode: x", "invalid volume
// specification: 'x'", ...).
absl::StatusOr<types::v1::Mount> ParseVolumeFlag(const std::string& value);
absl::StatusOr<types::v1::Mount> ParseMountFlag(const std::string& value);
absl::StatusOr<types::v1::Mount> ParseTmpfsFlag(const std::string& value);

}  // namespace strata::cli

#endif  // STRATA_CLI_MOUNT_FLAGS_H_
