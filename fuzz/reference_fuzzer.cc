// Fuzzes the docker reference grammar: whatever the text, ParseReference returns a Status;
// a reference it accepts prints as a string that parses back to the same reference.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "lib/reference/reference.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<strata::Reference> parsed = strata::ParseReference(text);
  (void)strata::ValidateRepositoryName(text);
  if (!parsed.ok()) return 0;
  absl::StatusOr<strata::Reference> again = strata::ParseReference(parsed->ToString());
  if (!again.ok() || again->ToString() != parsed->ToString()) abort();
  return 0;
}
