// Fuzzes `--change`: each line of the input is one change, applied in order to an empty run
// configuration; the whole input is also split as shell words. Errors are fine, crashes and
// hangs are not.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "cli/core/changes.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> changes = absl::StrSplit(text, '\n');
  strata::oci::RunConfig config;
  (void)strata::gateway::ApplyChanges(changes, config);
  (void)strata::gateway::SplitWords(text);
  return 0;
}
