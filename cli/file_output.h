#ifndef STRATA_CLI_FILE_OUTPUT_H_
#define STRATA_CLI_FILE_OUTPUT_H_

// Where a command that writes a stream (export, save) puts it: stdout, a regular file
// replaced whole once complete (a failed write leaves no half file under the name), or
// anything else (a device, a FIFO) written as it is.
//
// A new regular file is made durable before it replaces the destination, without the stall
// of one big fsync at the end: every window written is handed to the disk at once
// (sync_file_range), so the writeback runs while the stream goes on and the final fsync finds
// little left to do.

#include <cstdint>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "lib/base/fs.h"
#include "lib/layer/stream.h"

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
  // Where to write the stream (valid after a successful Open).
  layer::ByteSink* sink() { return &sink_; }
  // Makes the written file the destination's content (fsync, then rename over it).
  // Errors: the errno of fsync or rename.
  absl::Status Commit();

 private:
  const std::string temp_tag_;
  const Symlinks symlinks_;
  // Writes to the output and, for a new file, starts the writeback of each full window.
  class WriteBehindSink : public layer::ByteSink {
   public:
    explicit WriteBehindSink(FileOutput* output) : output_(output) {}
    absl::Status Write(absl::string_view data) override;

   private:
    FileOutput* output_;
    int64_t written_ = 0;
    int64_t previous_ = 0;  // start of the window handed to the disk last
    int64_t handed_ = 0;    // bytes whose writeback has been started
  };

  std::string path_;
  std::string temp_;
  UniqueFd file_;
  WriteBehindSink sink_{this};
};

}  // namespace strata::cli

#endif  // STRATA_CLI_FILE_OUTPUT_H_
