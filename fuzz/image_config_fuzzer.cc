// Fuzzes the image config parser: any bytes give a config or an error; a config it accepts
// serializes to JSON that parses back and serializes to the same bytes, and every accessor
// the services use works on it.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "lib/oci/image_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string json(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<strata::oci::ImageConfig> config = strata::oci::ImageConfig::Parse(json);
  if (!config.ok()) return 0;
  (void)config->run_config();
  (void)config->diff_ids();
  (void)config->history();
  (void)config->created();
  (void)config->author();
  const std::string serialized = config->Serialize();
  absl::StatusOr<strata::oci::ImageConfig> again = strata::oci::ImageConfig::Parse(serialized);
  if (!again.ok() || again->Serialize() != serialized) abort();
  config->set_run_config(config->run_config());
  (void)strata::oci::ParseRfc3339(config->created());
  return 0;
}
