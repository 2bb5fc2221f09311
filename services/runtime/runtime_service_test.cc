// The gRPC adapter of strata.runtime.v1 over a real Runtime (real layerstore, overlay mounts,
// runc and monitors), called through an in-process channel: what a client of the wire sees —
// the request validation, the conversions both ways, the streams, and the status codes the
// proto documents.

#include "services/runtime/runtime_service.h"

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "lib/convert/api_types.h"
#include "services/runtime/testing/runtime_fixture.h"
#include "strata/runtime/v1/runtime.grpc.pb.h"

namespace strata::runtime {
namespace {

namespace v1 = strata::runtime::v1;

class RuntimeServiceTest : public ::testing::Test {
 protected:
  RuntimeServiceTest() : service_(&fixture_.runtime()) {
    grpc::ServerBuilder builder;
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    stub_ = v1::Runtime::NewStub(server_->InProcessChannel(grpc::ChannelArguments()));
  }
  ~RuntimeServiceTest() override { server_->Shutdown(); }

  // Creates a busybox container running args through the wire.
  grpc::Status Create(const std::vector<std::string>& args, v1::Container* container) {
    v1::CreateContainerRequest request;
    request.set_image_id("sha256:" + std::string(64, 'a'));
    request.set_image_ref("busybox");
    convert::ToProto(fixture_.BusyboxLayer(), request.add_layers());
    for (const std::string& arg : args) request.mutable_options()->add_cmd(arg);
    grpc::ClientContext context;
    v1::CreateContainerResponse response;
    grpc::Status status = stub_->CreateContainer(&context, request, &response);
    *container = response.container();
    return status;
  }

  grpc::Status Start(const std::string& id, int64_t* log_offset) {
    v1::StartContainerRequest request;
    request.set_container(id);
    grpc::ClientContext context;
    v1::StartContainerResponse response;
    grpc::Status status = stub_->StartContainer(&context, request, &response);
    *log_offset = response.log_offset();
    return status;
  }

  testing::RuntimeFixture fixture_;
  RuntimeService service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::Runtime::Stub> stub_;
};

TEST_F(RuntimeServiceTest, RunsAContainerAndStreamsItsOutput) {
  v1::Container container;
  ASSERT_TRUE(Create({"sh", "-c", "echo out; echo err >&2; exit 7"}, &container).ok());
  EXPECT_EQ(container.id().size(), 64u);
  EXPECT_EQ(container.state(), v1::CREATED);
  EXPECT_EQ(container.image_ref(), "busybox");
  ASSERT_EQ(container.layers_size(), 1);
  EXPECT_EQ(container.layers(0).digest(), fixture_.BusyboxLayer().digest.str());

  int64_t log_offset = -1;
  ASSERT_TRUE(Start(container.id(), &log_offset).ok());
  EXPECT_EQ(log_offset, 0);

  grpc::ClientContext attach_context;
  auto attach = stub_->Attach(&attach_context);
  v1::AttachRequest hello;
  hello.mutable_options()->set_container(container.name());
  hello.mutable_options()->set_log_offset(log_offset);
  ASSERT_TRUE(attach->Write(hello));
  attach->WritesDone();
  std::string out, err;
  int exit_code = -1;
  v1::ProcessOutput output;
  while (attach->Read(&output)) {
    out += output.stdout();
    err += output.stderr();
    if (output.has_exit()) exit_code = output.exit().exit_code();
  }
  ASSERT_TRUE(attach->Finish().ok());
  EXPECT_EQ(out, "out\n");
  EXPECT_EQ(err, "err\n");
  EXPECT_EQ(exit_code, 7);

  grpc::ClientContext wait_context;
  v1::WaitRequest wait;
  wait.set_container(container.id().substr(0, 12));
  v1::WaitResponse waited;
  ASSERT_TRUE(stub_->Wait(&wait_context, wait, &waited).ok());
  EXPECT_EQ(waited.status().exit_code(), 7);
  EXPECT_GT(waited.status().finished().seconds(), 0);

  grpc::ClientContext list_context;
  v1::ListRequest list;
  list.set_all(true);
  v1::ListResponse listed;
  ASSERT_TRUE(stub_->List(&list_context, list, &listed).ok());
  ASSERT_EQ(listed.containers_size(), 1);
  EXPECT_EQ(listed.containers(0).state(), v1::EXITED);
  EXPECT_EQ(listed.containers(0).exit_code(), 7);

  grpc::ClientContext remove_context;
  v1::RemoveRequest remove;
  remove.set_container(container.id());
  v1::RemoveResponse removed;
  ASSERT_TRUE(stub_->Remove(&remove_context, remove, &removed).ok());
  EXPECT_EQ(removed.id(), container.id());
  grpc::ClientContext inspect_context;
  v1::InspectRequest inspect;
  inspect.set_container(container.id());
  v1::InspectResponse inspected;
  EXPECT_EQ(stub_->Inspect(&inspect_context, inspect, &inspected).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(RuntimeServiceTest, StreamsTheDiffAndTheExport) {
  v1::Container container;
  ASSERT_TRUE(Create({"sh", "-c", "echo new > /new; rm /bin/vi"}, &container).ok());
  int64_t log_offset = 0;
  ASSERT_TRUE(Start(container.id(), &log_offset).ok());
  grpc::ClientContext wait_context;
  v1::WaitRequest wait;
  wait.set_container(container.id());
  v1::WaitResponse waited;
  ASSERT_TRUE(stub_->Wait(&wait_context, wait, &waited).ok());

  grpc::ClientContext diff_context;
  v1::DiffRequest diff;
  diff.set_container(container.id());
  auto diff_stream = stub_->Diff(&diff_context, diff);
  std::vector<std::string> changes;
  v1::DiffResponse page;
  while (diff_stream->Read(&page)) {
    for (const v1::Change& change : page.changes()) {
      const char* kind = change.kind() == v1::ADDED     ? "A"
                         : change.kind() == v1::CHANGED ? "C"
                         : change.kind() == v1::DELETED ? "D"
                                                        : "?";
      changes.push_back(absl::StrCat(kind, " ", change.path()));
    }
  }
  ASSERT_TRUE(diff_stream->Finish().ok());
  EXPECT_EQ(changes, (std::vector<std::string>{"C /bin", "D /bin/vi", "A /new"}));

  grpc::ClientContext export_context;
  v1::ExportRequest export_request;
  export_request.set_container(container.id());
  auto export_stream = stub_->Export(&export_context, export_request);
  std::string tar;
  v1::DataChunk chunk;
  while (export_stream->Read(&chunk)) tar += chunk.data();
  ASSERT_TRUE(export_stream->Finish().ok());
  // A tar of the merged tree: the new file is there, with its content; the removed one is not.
  EXPECT_NE(tar.find("new\n"), std::string::npos);
  EXPECT_NE(tar.find("bin/busybox"), std::string::npos);
  EXPECT_EQ(tar.find("bin/vi\0", 0, 7), std::string::npos);
  EXPECT_EQ(tar.size() % 512, 0u);
}

TEST_F(RuntimeServiceTest, RefusesBadRequestsWithTheDocumentedCodes) {
  {
    // A stream that does not start with its options.
    grpc::ClientContext context;
    auto attach = stub_->Attach(&context);
    v1::AttachRequest stdin_first;
    stdin_first.set_stdin("x");
    attach->Write(stdin_first);
    attach->WritesDone();
    v1::ProcessOutput output;
    while (attach->Read(&output)) {
    }
    EXPECT_EQ(attach->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
  {
    grpc::ClientContext context;
    auto attach = stub_->Attach(&context);
    v1::AttachRequest hello;
    hello.mutable_options()->set_container("anything");
    hello.mutable_options()->set_log_offset(-5);
    attach->Write(hello);
    attach->WritesDone();
    v1::ProcessOutput output;
    while (attach->Read(&output)) {
    }
    EXPECT_EQ(attach->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
  {
    grpc::ClientContext context;
    v1::StopRequest stop;
    stop.set_container("anything");
    stop.set_timeout_seconds(-1);
    v1::StopResponse response;
    EXPECT_EQ(stub_->Stop(&context, stop, &response).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
  }
  {
    // A layer whose digest is not a digest.
    v1::CreateContainerRequest request;
    request.add_layers()->set_digest("sha256:not-hex");
    request.mutable_options()->add_cmd("true");
    grpc::ClientContext context;
    v1::CreateContainerResponse response;
    grpc::Status status = stub_->CreateContainer(&context, request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  }
  for (const char* name : {"no-such-container", "0123456789ab"}) {
    grpc::ClientContext context;
    v1::StartContainerRequest request;
    request.set_container(name);
    v1::StartContainerResponse response;
    grpc::Status status = stub_->StartContainer(&context, request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << name;
    EXPECT_NE(status.error_message().find(name), std::string::npos) << status.error_message();
  }
}

}  // namespace
}  // namespace strata::runtime
