// The lifecycle workflows: disk usage (`docker system df`), prune of images, containers and the
// whole system, and layerstore garbage collection after them.
//
// Sizes are bytes stored in layerstore (compressed layer blobs, each counted once however many
// images share it), so that what df calls reclaimable is what removing the unused images and
// collecting garbage frees.

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "cli/core/gateway.h"
#include "lib/base/errors.h"

namespace strata::gateway {
namespace {

absl::Time FromTimestamp(const google::protobuf::Timestamp& time) {
  return absl::FromUnixSeconds(time.seconds()) + absl::Nanoseconds(time.nanos());
}

// docker's --filter until=: a duration before now ("24h", "10m"), an RFC 3339 time, a date, or
// unix seconds. Errors: INVALID_ARGUMENT with docker's words.
absl::StatusOr<absl::Time> ParseUntil(const std::string& value, absl::Time now) {
  absl::Duration ago;
  if (absl::ParseDuration(value, &ago)) return now - ago;
  double seconds = 0;
  if (absl::SimpleAtod(value, &seconds)) {
    return absl::FromUnixNanos(static_cast<int64_t>(seconds * 1e9));
  }
  absl::Time time;
  std::string error;
  for (const char* format : {absl::RFC3339_full, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"}) {
    if (absl::ParseTime(format, value, absl::UTCTimeZone(), &time, &error)) return time;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("failed to parse value as time or duration: \"", value, "\""));
}

struct PruneFilters {
  std::optional<absl::Time> until;
};

absl::StatusOr<PruneFilters> ParseFilters(const google::protobuf::RepeatedPtrField<std::string>& filters) {
  PruneFilters parsed;
  for (const std::string& filter : filters) {
    const size_t equals = filter.find('=');
    if (equals == std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad format of filter (expected name=value): ", filter));
    }
    const std::string name = filter.substr(0, equals);
    if (name != "until") {
      return absl::InvalidArgumentError(absl::StrCat("invalid filter '", name, "'"));
    }
    ASSIGN_OR_RETURN(absl::Time until, ParseUntil(filter.substr(equals + 1), absl::Now()));
    parsed.until = until;
  }
  return parsed;
}

}  // namespace

absl::StatusOr<int64_t> Gateway::CollectGarbage() {
  ASSIGN_OR_RETURN(layerstore::LayerstoreClient * layerstore, services_.layerstore());
  absl::StatusOr<layerstore::GcReport> report = layerstore->CollectGarbage();
  if (!report.ok()) {
    const absl::StatusCode code = report.status().code();
    if (code == absl::StatusCode::kUnavailable || code == absl::StatusCode::kDeadlineExceeded) {
      return absl::Status(code, absl::StrCat("layerstore at ", services_.endpoints().layerstore,
                                             ": ", report.status().message()));
    }
    return report.status();
  }
  return report->bytes_removed;
}

absl::StatusOr<gw::DiskUsageResult> Gateway::DiskUsage(const gw::DiskUsageRequest& request) {
  ig::ListImagesRequest every;
  every.set_all(true);
  ASSIGN_OR_RETURN(std::vector<ig::Image> images, ListAllImages(every));
  ASSIGN_OR_RETURN(std::vector<rt::Container> containers, ListContainers(/*all=*/true));

  // Which images containers use: by id, as the runtime records it.
  std::map<std::string, int> users;
  for (const rt::Container& container : containers) ++users[container.image_id()];

  // Each blob once: its size, how many images have it, whether a used image has it.
  struct BlobUse {
    int64_t size = 0;
    int images = 0;
    bool used = false;
  };
  std::map<std::string, BlobUse> blobs;
  for (const ig::Image& image : images) {
    std::set<std::string> own;
    for (const auto& layer : image.layers()) {
      if (!own.insert(layer.digest()).second) continue;
      BlobUse& use = blobs[layer.digest()];
      use.size = layer.size();
      ++use.images;
      if (users.count(image.id())) use.used = true;
    }
  }
  gw::DiskUsageResult result;
  result.set_images_total(static_cast<int64_t>(images.size()));
  for (const ig::Image& image : images) {
    if (users.count(image.id())) result.set_images_active(result.images_active() + 1);
  }
  for (const auto& [digest, use] : blobs) {
    result.set_images_size(result.images_size() + use.size);
    if (!use.used) result.set_images_reclaimable(result.images_reclaimable() + use.size);
  }
  result.set_containers_total(static_cast<int64_t>(containers.size()));
  for (const rt::Container& container : containers) {
    if (container.state() == rt::RUNNING || container.state() == rt::PAUSED) {
      result.set_containers_active(result.containers_active() + 1);
    }
  }
  // What layerstore holds beyond the images' blobs (the next collection frees it).
  ASSIGN_OR_RETURN(layerstore::LayerstoreClient * layerstore, services_.layerstore());
  ASSIGN_OR_RETURN(std::vector<layerstore::BlobInfo> stored, layerstore->ListAll());
  for (const layerstore::BlobInfo& blob : stored) {
    if (!blobs.count(blob.digest.str())) {
      result.set_layerstore_unreferenced(result.layerstore_unreferenced() + blob.size);
    }
  }
  if (!request.verbose()) return result;
  for (const ig::Image& image : images) {
    gw::ImageUsage* usage = result.add_image_usage();
    usage->set_id(image.id());
    usage->mutable_tags()->CopyFrom(image.tags());
    *usage->mutable_created() = image.created();
    std::set<std::string> own;
    for (const auto& layer : image.layers()) {
      if (!own.insert(layer.digest()).second) continue;
      usage->set_size(usage->size() + layer.size());
      if (blobs[layer.digest()].images > 1) {
        usage->set_shared_size(usage->shared_size() + layer.size());
      }
    }
    auto found = users.find(image.id());
    usage->set_containers(found == users.end() ? 0 : found->second);
  }
  for (const rt::Container& container : containers) {
    gw::ContainerUsage* usage = result.add_container_usage();
    usage->set_id(container.id());
    usage->set_name(container.name());
    usage->set_image(container.image_ref());
    usage->set_command(absl::StrJoin(container.args(), " "));
    *usage->mutable_created() = container.created();
    usage->set_status(rt::ContainerState_Name(container.state()));
  }
  return result;
}

absl::StatusOr<gw::PruneResult> Gateway::PruneContainers() {
  ASSIGN_OR_RETURN(std::vector<rt::Container> containers, ListContainers(/*all=*/true));
  gw::PruneResult result;
  for (const rt::Container& container : containers) {
    if (container.state() == rt::RUNNING || container.state() == rt::PAUSED) continue;
    rt::RemoveRequest remove;
    remove.set_container(container.id());
    absl::StatusOr<std::string> removed = RemoveContainer(remove);
    if (absl::IsNotFound(removed.status())) continue;  // gone meanwhile
    RETURN_IF_ERROR(removed.status());
    result.add_deleted_containers(*removed);
  }
  return result;
}

absl::StatusOr<gw::PruneResult> Gateway::PruneImages(const gw::PruneImagesRequest& request) {
  ASSIGN_OR_RETURN(PruneFilters filters, ParseFilters(request.filters()));
  ASSIGN_OR_RETURN(ig::ImageGraph::Stub * graph, services_.imagegraph());
  ReconcileHolds();
  gw::PruneResult result;
  std::set<std::string> refused;  // images imagegraph would not remove (held meanwhile)
  // Leaves first: removing a child makes its parent a leaf for the next round.
  for (;;) {
    ig::ListImagesRequest every;
    every.set_all(true);
    ASSIGN_OR_RETURN(std::vector<ig::Image> images, ListAllImages(every));
    ig::ListHoldsResponse holds;
    grpc::Status listed =
        graph->ListHolds(Services::Unary().get(), ig::ListHoldsRequest(), &holds);
    if (!listed.ok()) return services_.ImagegraphError(listed);
    std::set<std::string> held;
    for (const ig::Hold& hold : holds.holds()) held.insert(hold.image_id());
    bool removed_any = false;
    for (const ig::Image& image : images) {
      if (image.child_count() > 0 || held.count(image.id()) || refused.count(image.id())) {
        continue;
      }
      if (!request.all() && !image.tags().empty()) continue;  // dangling only
      if (filters.until &&
          (!image.has_created() || FromTimestamp(image.created()) >= *filters.until)) {
        continue;
      }
      ig::DeleteImageRequest remove;
      remove.set_ref(image.id());
      remove.set_force(true);  // every tag goes (the image is unused)
      absl::StatusOr<ig::DeleteImageResponse> response = RemoveImage(remove);
      if (absl::IsFailedPrecondition(response.status()) || absl::IsNotFound(response.status())) {
        refused.insert(image.id());
        continue;
      }
      RETURN_IF_ERROR(response.status());
      removed_any = removed_any || !response->deleted().empty();
      *result.add_images() = std::move(*response);
    }
    if (!removed_any) break;
  }
  ASSIGN_OR_RETURN(int64_t freed, CollectGarbage());
  result.set_space_reclaimed(freed);
  return result;
}

absl::StatusOr<gw::PruneResult> Gateway::PruneSystem(const gw::PruneImagesRequest& request) {
  ASSIGN_OR_RETURN(gw::PruneResult containers, PruneContainers());
  ASSIGN_OR_RETURN(gw::PruneResult images, PruneImages(request));
  images.mutable_deleted_containers()->Swap(containers.mutable_deleted_containers());
  return images;
}

}  // namespace strata::gateway
