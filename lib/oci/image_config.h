#ifndef STRATA_LIB_OCI_IMAGE_CONFIG_H_
#define STRATA_LIB_OCI_IMAGE_CONFIG_H_

// The OCI image config JSON (application/vnd.oci.image.config.v1+json): what an image runs
// (config.Cmd, Entrypoint, Env, ...), its layers' diff ids and its history.
//
// ImageConfig keeps the whole document, so fields Strata does not know (written by other
// tools) survive a parse and re-serialization; the accessors give typed views of the fields
// Strata uses. Serialization is deterministic (keys sorted, no spaces): the same config gives
// the same bytes, hence the same image id.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "lib/digest/digest.h"
#include "nlohmann/json.hpp"

namespace strata::oci {

// One step of an image's history.
struct History {
  // RFC 3339 with nanoseconds, UTC ("2024-05-01T12:00:00.123456789Z"); may be empty.
  std::string created;
  std::string created_by;
  std::string author;
  std::string comment;
  // True for steps that changed only the config (no layer).
  bool empty_layer = false;
};

// The "config" object: how a container from the image runs. Lists are optional where an
// absent list and an empty one mean different things to docker (Entrypoint, Cmd).
struct RunConfig {
  std::string user;
  std::vector<std::string> env;
  std::optional<std::vector<std::string>> entrypoint;
  std::optional<std::vector<std::string>> cmd;
  std::string working_dir;
  std::map<std::string, std::string> labels;
  // "80/tcp" style keys.
  std::vector<std::string> exposed_ports;
  std::vector<std::string> volumes;
  std::string stop_signal;
  // docker's ONBUILD triggers ("RUN make"), config "OnBuild".
  std::vector<std::string> on_build;
};

class ImageConfig {
 public:
  // A config for this host's platform (linux, amd64 etc.), no layers, no history.
  ImageConfig();

  // Parses and checks the fields Strata relies on: a JSON object; "rootfs" with type "layers"
  // and "diff_ids" a list of sha256 digests; "config" (when present) with the types the spec
  // gives; "history" (when present) a list of objects.
  // Errors: INVALID_ARGUMENT naming the field at fault.
  static absl::StatusOr<ImageConfig> Parse(absl::string_view json);

  // Compact JSON with sorted keys.
  std::string Serialize() const;

  RunConfig run_config() const;
  // Replaces the fields RunConfig knows, keeping any other key of "config".
  void set_run_config(const RunConfig& run_config);

  std::vector<Digest> diff_ids() const;
  std::vector<History> history() const;

  // Appends a layer to rootfs.diff_ids (with its history step: empty_layer must be false).
  void AddLayer(const Digest& diff_id, const History& step);
  // Appends a history step without a layer (empty_layer is set).
  void AddEmptyStep(History step);

  std::string created() const;
  void set_created(const std::string& created);
  std::string author() const;
  void set_author(const std::string& author);
  std::string architecture() const;
  std::string os() const;

  const nlohmann::json& document() const { return document_; }

 private:
  explicit ImageConfig(nlohmann::json document) : document_(std::move(document)) {}

  nlohmann::json document_;
};

// Time in the format image configs use (Go's RFC3339Nano, UTC).
std::string FormatRfc3339(absl::Time time);
// Parses RFC 3339 times with or without fractional seconds. Errors: INVALID_ARGUMENT.
absl::StatusOr<absl::Time> ParseRfc3339(absl::string_view text);

// The architecture name OCI uses for this build ("amd64", "arm64", ...).
const char* HostArchitecture();

}  // namespace strata::oci

#endif  // STRATA_LIB_OCI_IMAGE_CONFIG_H_
