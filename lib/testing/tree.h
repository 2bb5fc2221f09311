#ifndef STRATA_LIB_TESTING_TREE_H_
#define STRATA_LIB_TESTING_TREE_H_

// Describing and building directory trees in tests.

#include <sys/types.h>

#include <string>

#include "absl/status/statusor.h"

namespace strata::testing {

// One line per entry below root, sorted by path: path, type, permission bits, owner,
// size and content digest (files), link target (symlinks), device numbers, xattrs (except
// trusted.overlay.*) and, for regular files with several links, the first path of the group.
// Two trees with equal descriptions have the same files as far as an image is concerned
// (modification times are left out: copies and unpacking may round them).
absl::StatusOr<std::string> DescribeTree(const std::string& root);

// Small helpers that abort the test binary on failure, for building fixtures.
void WriteFileOrDie(const std::string& path, const std::string& contents, mode_t mode = 0644);
void MakeDirOrDie(const std::string& path, mode_t mode = 0755);

}  // namespace strata::testing

#endif  // STRATA_LIB_TESTING_TREE_H_
