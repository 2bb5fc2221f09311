#ifndef STRATA_LIB_ARCHIVE_ARCHIVE_IO_H_
#define STRATA_LIB_ARCHIVE_ARCHIVE_IO_H_

// Where an image archive's members go and come from: a tar stream (docker-archive,
// oci-archive) or a directory (an OCI image layout, `oci:DIR` to skopeo). Save writes through
// ArchiveWriter without knowing which; load reads a layout directory as the same members a
// tar would give.

#include <cstdint>
#include <functional>
#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "lib/archive/tar_stream.h"
#include "lib/layer/stream.h"

namespace strata::archive {

// Members are written in the order given; a member's parent directories come first.
class ArchiveWriter {
 public:
  virtual ~ArchiveWriter() = default;
  virtual absl::Status AddFile(const std::string& path, absl::string_view contents) = 0;
  // Exactly size bytes from source. Errors: DATA_LOSS when source gives more or fewer.
  virtual absl::Status AddFile(const std::string& path, int64_t size,
                               layer::ByteSource* source) = 0;
  virtual absl::Status Finish() = 0;
};

// Into a tar stream on sink (not closed by Finish).
class TarArchiveWriter : public ArchiveWriter {
 public:
  explicit TarArchiveWriter(layer::ByteSink* sink) : tar_(sink) {}
  absl::Status AddFile(const std::string& path, absl::string_view contents) override;
  absl::Status AddFile(const std::string& path, int64_t size, layer::ByteSource* source) override;
  absl::Status Finish() override { return tar_.Finish(); }

 private:
  absl::Status AddParents(const std::string& path);
  TarStreamWriter tar_;
  std::set<std::string> directories_;
};

// Into the directory root, which Open creates (its parent must exist) or which must be empty.
// Files are created exclusively: an existing one is never overwritten.
class DirArchiveWriter : public ArchiveWriter {
 public:
  // Errors: ALREADY_EXISTS ("DIR is not empty"), FAILED_PRECONDITION (not a directory), errno.
  absl::Status Open(const std::string& root);
  absl::Status AddFile(const std::string& path, absl::string_view contents) override;
  absl::Status AddFile(const std::string& path, int64_t size, layer::ByteSource* source) override;
  absl::Status Finish() override;

 private:
  std::string root_;
};

// Calls on_member for each file of an OCI image layout directory: oci-layout, index.json,
// then every blobs/<algorithm>/<hex> (sizes from stat; contents streamed). Anything else in
// the directory is ignored; a symlink or non-regular file among those is refused.
// Errors: INVALID_ARGUMENT (no oci-layout: not an OCI layout), on_member's, errno.
absl::Status ReadLayoutDirectory(
    const std::string& root,
    const std::function<absl::Status(const std::string& path, int64_t size,
                                     layer::ByteSource* contents)>& on_member);

}  // namespace strata::archive

#endif  // STRATA_LIB_ARCHIVE_ARCHIVE_IO_H_
