// The system workflows: checking the store.

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cli/core/gateway.h"
#include "lib/base/errors.h"

namespace strata::gateway {

absl::StatusOr<gw::CheckSystemResult> Gateway::CheckSystem(ProgressObserver* progress) {
  ASSIGN_OR_RETURN(layerstore::LayerstoreClient * blobs, services_.layerstore());
  absl::StatusOr<layerstore::ScrubReport> report =
      blobs->Check([progress](const layerstore::ScrubReport& so_far) {
        gw::Progress step;
        step.set_action("Checking");
        step.set_current(so_far.bytes_checked);  // bytes, so the CLI shows a rate
        progress->OnProgress(step);
      });
  if (!report.ok()) {
    const absl::StatusCode code = report.status().code();
    if (code == absl::StatusCode::kUnavailable || code == absl::StatusCode::kDeadlineExceeded) {
      return absl::Status(code, absl::StrCat("layerstore at ", services_.endpoints().layerstore,
                                             ": ", report.status().message()));
    }
    return report.status();
  }

  gw::CheckSystemResult result;
  result.set_blobs_checked(report->blobs_checked);
  result.set_bytes_checked(report->bytes_checked);
  if (report->damaged.empty()) return result;

  // Which images each damaged blob breaks: every image (tagged or not) that has it as a
  // layer, or whose id (the digest of its config) it is.
  std::map<std::string, gw::DamagedBlob*> by_digest;
  for (const layerstore::DamagedBlob& damaged : report->damaged) {
    gw::DamagedBlob* out = result.add_damaged();
    out->set_digest(damaged.digest.str());
    out->set_size(damaged.size);
    out->set_reason(damaged.reason);
    out->set_quarantined_to(damaged.quarantined_to);
    out->set_quarantine_error(damaged.quarantine_error);
    by_digest[damaged.digest.str()] = out;
  }
  ig::ListImagesRequest every;
  every.set_all(true);
  ASSIGN_OR_RETURN(std::vector<ig::Image> images, ListAllImages(every));
  const auto add = [](gw::DamagedBlob* blob, const ig::Image& image, const char* role) {
    gw::BrokenImage* broken = blob->add_images();
    broken->set_id(image.id());
    broken->mutable_tags()->CopyFrom(image.tags());
    broken->set_role(role);
  };
  for (const ig::Image& image : images) {
    if (auto config = by_digest.find(image.id()); config != by_digest.end()) {
      add(config->second, image, "config");
    }
    std::set<std::string> named;  // an image is named once per blob, however many layers
    for (const auto& layer : image.layers()) {
      auto found = by_digest.find(layer.digest());
      if (found != by_digest.end() && named.insert(layer.digest()).second) {
        add(found->second, image, "layer");
      }
    }
  }
  return result;
}

}  // namespace strata::gateway
