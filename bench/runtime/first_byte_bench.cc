// Time from CreateContainer to the first byte of `echo hi` on the container's stdout, through
// the runtime's gRPC API (CreateContainer, StartContainer, Attach), for an image whose layers
// are already unpacked on the node. Prints each run and the median.

#include <algorithm>
#include <cstdio>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/time/clock.h"
#include "grpcpp/client_context.h"
#include "lib/oci/image_config.h"
#include "lib/rpc/client.h"
#include "strata/imagegraph/v1/imagegraph.grpc.pb.h"
#include "strata/runtime/v1/runtime.grpc.pb.h"

namespace ig = strata::imagegraph::v1;
namespace rt = strata::runtime::v1;

int main(int argc, char** argv) {
  CLI::App app{"first_byte_bench"};
  std::string runtime_address = "127.0.0.1:7422";
  std::string imagegraph_address = "127.0.0.1:7421";
  std::string image = "base";
  int iterations = 20;
  app.add_option("--runtime", runtime_address);
  app.add_option("--imagegraph", imagegraph_address);
  app.add_option("--image", image);
  app.add_option("--iterations", iterations);
  CLI11_PARSE(app, argc, argv);

  auto runtime = rt::Runtime::NewStub(*strata::rpc::Dial({.address = runtime_address}));
  auto images = ig::ImageGraph::NewStub(*strata::rpc::Dial({.address = imagegraph_address}));
  ig::GetImageRequest get;
  get.set_ref(image);
  ig::GetImageResponse found;
  grpc::ClientContext get_context;
  if (!images->GetImage(&get_context, get, &found).ok()) {
    std::fprintf(stderr, "no image %s\n", image.c_str());
    return 1;
  }
  auto config = strata::oci::ImageConfig::Parse(found.image().config());

  std::vector<double> millis;
  for (int i = 0; i <= iterations; ++i) {  // run 0 warms up (and unpacks)
    rt::CreateContainerRequest create;
    create.set_image_id(found.image().id());
    create.set_image_ref(image);
    for (const auto& layer : found.image().layers()) *create.add_layers() = layer;
    create.mutable_options()->add_cmd("echo");
    create.mutable_options()->add_cmd("hi");
    const absl::Time start = absl::Now();
    rt::CreateContainerResponse created;
    grpc::ClientContext c1;
    grpc::Status status = runtime->CreateContainer(&c1, create, &created);
    if (!status.ok()) {
      std::fprintf(stderr, "create: %s\n", status.error_message().c_str());
      return 1;
    }
    rt::StartContainerRequest start_request;
    start_request.set_container(created.container().id());
    rt::StartContainerResponse started;
    grpc::ClientContext c2;
    status = runtime->StartContainer(&c2, start_request, &started);
    if (!status.ok()) {
      std::fprintf(stderr, "start: %s\n", status.error_message().c_str());
      return 1;
    }
    grpc::ClientContext c3;
    auto stream = runtime->Attach(&c3);
    rt::AttachRequest attach;
    attach.mutable_options()->set_container(created.container().id());
    attach.mutable_options()->set_log_offset(started.log_offset());
    stream->Write(attach);
    rt::ProcessOutput output;
    double first_byte = -1;
    while (stream->Read(&output)) {
      if (first_byte < 0 && output.has_stdout()) {
        first_byte = absl::ToDoubleMilliseconds(absl::Now() - start);
      }
      if (output.has_exit()) break;
    }
    stream->WritesDone();
    stream->Finish();
    rt::RemoveRequest remove;
    remove.set_container(created.container().id());
    remove.set_force(true);
    rt::RemoveResponse removed;
    grpc::ClientContext c4;
    runtime->Remove(&c4, remove, &removed);
    if (i > 0) {
      millis.push_back(first_byte);
      std::printf("run %2d: %.1f ms to the first byte\n", i, first_byte);
    }
  }
  std::sort(millis.begin(), millis.end());
  std::printf("median: %.1f ms (min %.1f, max %.1f) over %zu runs\n", millis[millis.size() / 2],
              millis.front(), millis.back(), millis.size());
  return 0;
}
