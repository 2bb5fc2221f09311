#include "lib/convert/api_types.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

namespace strata::convert {

void ToProto(const oci::RunConfig& config, types::v1::RunConfig* out) {
  out->Clear();
  if (config.entrypoint) {
    for (const std::string& value : *config.entrypoint) out->add_entrypoint(value);
  }
  if (config.cmd) {
    for (const std::string& value : *config.cmd) out->add_cmd(value);
  }
  for (const std::string& value : config.env) out->add_env(value);
  out->set_working_dir(config.working_dir);
  out->set_user(config.user);
  out->set_stop_signal(config.stop_signal);
  out->mutable_labels()->insert(config.labels.begin(), config.labels.end());
  for (const std::string& port : config.exposed_ports) out->add_exposed_ports(port);
  for (const std::string& volume : config.volumes) out->add_volumes(volume);
}

oci::RunConfig FromProto(const types::v1::RunConfig& config) {
  oci::RunConfig out;
  if (config.entrypoint_size() > 0) {
    out.entrypoint = std::vector<std::string>(config.entrypoint().begin(), config.entrypoint().end());
  }
  if (config.cmd_size() > 0) {
    out.cmd = std::vector<std::string>(config.cmd().begin(), config.cmd().end());
  }
  out.env.assign(config.env().begin(), config.env().end());
  out.working_dir = config.working_dir();
  out.user = config.user();
  out.stop_signal = config.stop_signal();
  out.labels.insert(config.labels().begin(), config.labels().end());
  out.exposed_ports.assign(config.exposed_ports().begin(), config.exposed_ports().end());
  out.volumes.assign(config.volumes().begin(), config.volumes().end());
  return out;
}

void ToProto(const oci::LayerDescriptor& layer, types::v1::LayerDescriptor* out) {
  out->set_digest(layer.digest.str());
  out->set_diff_id(layer.diff_id.str());
  out->set_media_type(layer.media_type);
  out->set_size(layer.size);
  out->set_uncompressed_size(layer.uncompressed_size);
}

absl::StatusOr<oci::LayerDescriptor> FromProto(const types::v1::LayerDescriptor& layer) {
  oci::LayerDescriptor out;
  absl::StatusOr<Digest> digest = Digest::Parse(layer.digest());
  if (!digest.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("layer digest: ", digest.status().message()));
  }
  absl::StatusOr<Digest> diff_id = Digest::Parse(layer.diff_id());
  if (!diff_id.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("layer ", layer.digest(), ": diff id: ", diff_id.status().message()));
  }
  if (layer.size() < 0 || layer.uncompressed_size() < 0) {
    return absl::InvalidArgumentError(absl::StrCat("layer ", layer.digest(), ": negative size"));
  }
  out.digest = *digest;
  out.diff_id = *diff_id;
  out.media_type = layer.media_type();
  out.size = layer.size();
  out.uncompressed_size = layer.uncompressed_size();
  return out;
}

}  // namespace strata::convert
