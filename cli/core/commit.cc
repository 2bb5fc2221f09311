// Gateway: commit, as `docker commit` — the runtime streams the writable layer to layerstore,
// the gateway writes the image (config, history step, layer, tag) to imagegraph in one
// transaction.

#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "cli/core/changes.h"
#include "cli/core/gateway.h"
#include "cli/core/image_writer.h"
#include "lib/base/errors.h"
#include "lib/convert/api_types.h"
#include "lib/oci/image_config.h"

namespace strata::gateway {
namespace {

absl::StatusOr<types::v1::Compression> CommitCompression(types::v1::Compression compression) {
  switch (compression) {
    case types::v1::COMPRESSION_DEFAULT:
    case types::v1::COMPRESSION_ZSTD:
    case types::v1::COMPRESSION_GZIP:
    case types::v1::COMPRESSION_NONE:
      return compression;
    default:
      return absl::InvalidArgumentError(absl::StrCat("unknown compression ", compression));
  }
}

// The new image runs what the container ran (docker's rules): entrypoint, cmd, env, working
// dir, user, stop signal and labels as the container had them.
oci::RunConfig RanConfig(const oci::RunConfig& parent, const oci::RunConfig& ran) {
  oci::RunConfig run = parent;
  run.entrypoint = ran.entrypoint;
  run.cmd = ran.cmd;
  run.env = ran.env;
  run.working_dir = ran.working_dir;
  run.user = ran.user;
  run.stop_signal = ran.stop_signal;
  run.labels = ran.labels;
  return run;
}

}  // namespace

absl::StatusOr<ig::Image> Gateway::Commit(const gw::CommitRequest& request,
                                          ProgressObserver* progress) {
  ASSIGN_OR_RETURN(std::string tag, internal::TargetTag(request.tag()));
  ASSIGN_OR_RETURN(types::v1::Compression compression, CommitCompression(request.compression()));
  {
    // The changes are checked before the slow part.
    oci::RunConfig probe;
    RETURN_IF_ERROR(ApplyChanges({request.changes().begin(), request.changes().end()}, probe));
  }
  ASSIGN_OR_RETURN(rt::Runtime::Stub * runtime, services_.runtime());

  ASSIGN_OR_RETURN(std::unique_ptr<layerstore::LeaseHolder> lease, internal::TakeLease(services_));
  rt::CommitRequest commit;
  commit.set_lease(lease->id());
  commit.set_container(request.container());
  commit.set_compression(compression);
  commit.set_pause(request.has_pause() ? request.pause() : true);
  rt::CommitResponse committed;
  {
    // The runtime answers once the layer is stored: tell the caller we are alive meanwhile.
    gw::Progress step;
    step.set_action("Committing");
    progress->OnProgress(step);
    absl::Notification done;
    const absl::Time started = absl::Now();
    std::thread ticker([&] {
      while (!done.WaitForNotificationWithTimeout(absl::Milliseconds(250))) {
        gw::Progress tick = step;
        tick.set_current(absl::ToInt64Milliseconds(absl::Now() - started));
        progress->OnProgress(tick);
      }
    });
    grpc::ClientContext context;
    grpc::Status status = runtime->Commit(&context, commit, &committed);
    done.Notify();
    ticker.join();
    if (!status.ok()) return services_.RuntimeError(status, request.container());
  }

  absl::StatusOr<ig::Image> parent = InspectImage(committed.image_id());
  if (!parent.ok()) {
    return absl::FailedPreconditionError(absl::StrCat("the image the container was created from (",
                                                      committed.image_id(),
                                                      ") is gone: ", parent.status().message()));
  }
  ASSIGN_OR_RETURN(oci::ImageConfig config, oci::ImageConfig::Parse(parent->config()));
  oci::RunConfig run = RanConfig(config.run_config(), convert::FromProto(committed.config()));
  RETURN_IF_ERROR(ApplyChanges({request.changes().begin(), request.changes().end()}, run));
  config.set_run_config(run);
  const std::string created = oci::FormatRfc3339(absl::Now());
  config.set_created(created);
  config.set_author(request.author());
  oci::History history{created, absl::StrJoin(committed.args(), " "), request.author(),
                       request.message(), false};

  std::vector<types::v1::LayerDescriptor> layers(parent->layers().begin(), parent->layers().end());
  if (committed.empty()) {
    config.AddEmptyStep(history);
  } else {
    ASSIGN_OR_RETURN(Digest diff_id, Digest::Parse(committed.layer().diff_id()));
    config.AddLayer(diff_id, history);
    layers.push_back(committed.layer());
  }
  gw::Progress writing;
  writing.set_action("Writing image");
  progress->OnProgress(writing);
  return internal::WriteImage(services_, config, layers, parent->id(), tag, lease.get());
}

}  // namespace strata::gateway
