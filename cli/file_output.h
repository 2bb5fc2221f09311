#ifndef STRATA_CLI_FILE_OUTPUT_H_
#define STRATA_CLI_FILE_OUTPUT_H_

// Where a command that writes a stream (export, save) puts it: stdout, a regular file
// replaced whole once complete (a failed write leaves no half file under the name), or
// anything else (a device, a FIFO) written as it is.

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "lib/base/fs.h"

namespace strata::cli {

class FileOutput {
 public:
  // How a path naming a symlink is treated: looked at through the link (a link to a regular
  // file is replaced by the new file, as save has done) or as the link itself (written
  // through it as it is, as export has done).
  enum class Symlinks { kFollow, kWriteThrough };

  // temp_tag names the temporary file beside the destination ("<path>.<tag>-<pid>").
  FileOutput(std::string temp_tag, Symlinks symlinks)
      : temp_tag_(std::move(temp_tag)), symlinks_(symlinks) {}
  FileOutput(const FileOutput&) = delete;
  FileOutput& operator=(const FileOutput&) = delete;
  // Removes the temporary file of an output never committed.
  ~FileOutput();

  // An empty path means stdout. Errors: the errno of open, as a Status naming the path.
  absl::Status Open(const std::string& path);
  int fd() const;
  // Makes the written file the destination's content (fsync, then rename over it).
  // Errors: the errno of fsync or rename.
  absl::Status Commit();

 private:
  const std::string temp_tag_;
  const Symlinks symlinks_;
  std::string path_;
  std::string temp_;
  UniqueFd file_;
};

}  // namespace strata::cli

#endif  // STRATA_CLI_FILE_OUTPUT_H_
