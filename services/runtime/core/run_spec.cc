#include "services/runtime/core/run_spec.h"

#include "absl/strings/str_cat.h"

namespace strata::runtime {
namespace {

std::string EnvKey(const std::string& entry) { return entry.substr(0, entry.find('=')); }

}  // namespace

void SetEnv(std::vector<std::string>& env, const std::string& key, const std::string& value) {
  const std::string entry = absl::StrCat(key, "=", value);
  for (std::string& existing : env) {
    if (EnvKey(existing) == key) {
      existing = entry;
      return;
    }
  }
  env.push_back(entry);
}

std::optional<std::string> GetEnv(const std::vector<std::string>& env, const std::string& key) {
  for (const std::string& entry : env) {
    const size_t equals = entry.find('=');
    if (entry.substr(0, equals) == key) {
      return equals == std::string::npos ? "" : entry.substr(equals + 1);
    }
  }
  return std::nullopt;
}

absl::StatusOr<oci::RunConfig> MergeRunSpec(const oci::RunConfig& image, const RunOverrides& overrides) {
  oci::RunConfig merged = image;
  if (overrides.entrypoint) {
    merged.entrypoint = *overrides.entrypoint;
    merged.cmd.reset();
  }
  if (!overrides.cmd.empty()) merged.cmd = overrides.cmd;
  for (const std::string& entry : overrides.env) {
    const size_t equals = entry.find('=');
    if (equals == 0 || entry.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("env \"", entry, "\": no variable name"));
    }
    if (equals == std::string::npos) {
      // docker's "-e KEY" without a value: the variable is set empty.
      SetEnv(merged.env, entry, "");
    } else {
      SetEnv(merged.env, entry.substr(0, equals), entry.substr(equals + 1));
    }
  }
  if (!overrides.working_dir.empty()) merged.working_dir = overrides.working_dir;
  if (!overrides.user.empty()) merged.user = overrides.user;
  for (const auto& [key, value] : overrides.labels) merged.labels[key] = value;
  return merged;
}

absl::StatusOr<std::vector<std::string>> CommandLine(const oci::RunConfig& spec) {
  std::vector<std::string> args = spec.entrypoint.value_or(std::vector<std::string>());
  if (spec.cmd) args.insert(args.end(), spec.cmd->begin(), spec.cmd->end());
  if (args.empty()) {
    return absl::InvalidArgumentError(
        "no command specified: the image has neither Entrypoint nor Cmd; give a command");
  }
  return args;
}

}  // namespace strata::runtime
