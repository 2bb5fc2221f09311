// Fuzzes the layer codec: any bytes (tar in any compression, damaged or hostile) are read
// entry by entry as import reads them, then unpacked into a fresh directory over a lower
// snapshot, as the runtime does. Errors are fine; crashes, sanitizer reports, hangs and
// anything written outside the target directory are not.

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "lib/base/fs.h"
#include "lib/layer/layer_reader.h"
#include "lib/layer/unpacker.h"

namespace {

using strata::layer::StringSource;

void ReadAll(const std::string& bytes) {
  StringSource source(bytes, 977);
  strata::layer::LayerReader reader(&source);
  for (;;) {
    absl::StatusOr<archive_entry*> entry = reader.NextEntry();
    if (!entry.ok() || *entry == nullptr) break;
    (void)strata::layer::ValidateLayerEntry(*entry);
    absl::string_view data;
    int64_t offset = 0;
    for (;;) {
      absl::StatusOr<bool> more = reader.NextBlock(&data, &offset);
      if (!more.ok() || !*more) break;
    }
  }
  (void)reader.Finish();
}

// A scratch area made once per process: "lower" holds a few entries whiteouts can hit,
// "outside" must stay empty, and each input unpacks into a fresh "target".
struct Scratch {
  Scratch() {
    char pattern[] = "/tmp/strata-layer-fuzz-XXXXXX";
    root = mkdtemp(pattern);
    (void)strata::MakeDirs(root + "/lower/d");
    (void)strata::WriteFileAtomically(root + "/lower/d/file", "x");
    (void)strata::WriteFileAtomically(root + "/lower/file", "x");
    (void)strata::MakeDirs(root + "/outside");
    lower_fd = open((root + "/lower").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  }
  std::string root;
  int lower_fd = -1;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Scratch* scratch = new Scratch();
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  ReadAll(bytes);

  const std::string target = scratch->root + "/target";
  (void)strata::RemoveAll(target);
  if (mkdir(target.c_str(), 0755) != 0) abort();
  int target_fd = open(target.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  StringSource source(bytes, 4096);
  strata::layer::UnpackOptions options;
  options.lower_layers.emplace();
  options.lower_layers->push_back(scratch->lower_fd);
  (void)strata::layer::UnpackLayer(&source, target_fd, options);
  close(target_fd);
  struct stat st;
  // Nothing may appear beside the target.
  if (rmdir((scratch->root + "/outside").c_str()) != 0 ||
      mkdir((scratch->root + "/outside").c_str(), 0755) != 0 ||
      lstat((scratch->root + "/escaped").c_str(), &st) == 0) {
    abort();
  }
  return 0;
}
