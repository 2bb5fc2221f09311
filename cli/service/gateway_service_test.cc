// strata.gateway.v1 over a real channel against the whole stack (strata-gateway, the three
// services, PostgreSQL, runc, overlayfs): each RPC's success and its documented error codes.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "grpcpp/client_context.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "lib/base/fs.h"
#include "lib/rpc/client.h"
#include "strata/gateway/v1/gateway.grpc.pb.h"
#include "strata/imagegraph/v1/imagegraph.grpc.pb.h"
#include "tests/e2e/stack.h"

namespace strata::gateway {
namespace {

namespace gw = ::strata::gateway::v1;
namespace ig = ::strata::imagegraph::v1;
namespace rt = ::strata::runtime::v1;
using ::testing::HasSubstr;

#define EXPECT_CODE(status, code_name) \
  EXPECT_EQ((status).error_code(), grpc::StatusCode::code_name) << (status).error_message()

class GatewayServiceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto stack = e2e::Stack::Start(/*max_layers=*/3);
    ASSERT_TRUE(stack.ok()) << stack.status();
    stack_ = stack->release();
    auto channel = rpc::Dial({.address = stack_->gateway_address()});
    ASSERT_TRUE(channel.ok());
    gateway_ = gw::Gateway::NewStub(*channel).release();
    auto graph = rpc::Dial({.address = stack_->imagegraph_address()});
    ASSERT_TRUE(graph.ok());
    imagegraph_ = ig::ImageGraph::NewStub(*graph).release();
    auto tarball = stack_->BusyboxTarball("gzip");
    ASSERT_TRUE(tarball.ok());
    auto bytes = ReadFile(*tarball);
    ASSERT_TRUE(bytes.ok());
    tarball_ = new std::string(std::move(*bytes));
    std::vector<gw::Progress> progress;
    ig::Image base;
    grpc::Status status = Import(*tarball_, "base:1", &base, &progress);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  static void TearDownTestSuite() {
    delete gateway_;
    delete imagegraph_;
    delete stack_;
    delete tarball_;
  }

  // ImportImage: options, then the bytes in 64 KiB messages.
  static grpc::Status Import(const std::string& bytes, const std::string& tag, ig::Image* image,
                             std::vector<gw::Progress>* progress,
                             const std::vector<std::string>& changes = {}) {
    grpc::ClientContext context;
    auto stream = gateway_->ImportImage(&context);
    gw::ImportImageRequest first;
    first.mutable_options()->set_tag(tag);
    first.mutable_options()->set_source("busybox.tar.gz");
    first.mutable_options()->set_size(static_cast<int64_t>(bytes.size()));
    for (const auto& change : changes) first.mutable_options()->add_changes(change);
    stream->Write(first);
    for (size_t at = 0; at < bytes.size(); at += 64 << 10) {
      gw::ImportImageRequest chunk;
      chunk.set_data(bytes.substr(at, 64 << 10));
      if (!stream->Write(chunk)) break;
    }
    stream->WritesDone();
    gw::ImportImageResponse response;
    while (stream->Read(&response)) {
      if (response.has_progress()) progress->push_back(response.progress());
      if (response.has_image()) *image = response.image();
    }
    return stream->Finish();
  }

  struct RunOutput {
    grpc::Status status;
    rt::Container container;
    std::string stdout_text;
    int exit_code = -1;
  };
  static RunOutput Run(const gw::RunOptions& options, const std::string& stdin_data = "") {
    RunOutput out;
    grpc::ClientContext context;
    auto stream = gateway_->Run(&context);
    gw::RunRequest first;
    *first.mutable_options() = options;
    stream->Write(first);
    if (!stdin_data.empty()) {
      gw::RunRequest input;
      input.set_stdin(stdin_data);
      stream->Write(input);
      gw::RunRequest close;
      close.set_close_stdin(true);
      stream->Write(close);
    }
    gw::RunResponse response;
    while (stream->Read(&response)) {
      if (response.has_container()) out.container = response.container();
      if (response.output().has_stdout()) out.stdout_text += response.output().stdout();
      if (response.output().has_exit()) {
        out.exit_code = response.output().exit().exit_code();
        stream->WritesDone();
      }
    }
    out.status = stream->Finish();
    return out;
  }
  static gw::RunOptions RunOf(const std::string& image, const std::vector<std::string>& cmd,
                              bool remove = true) {
    gw::RunOptions options;
    options.set_image(image);
    for (const auto& arg : cmd) options.mutable_options()->add_cmd(arg);
    options.set_remove(remove);
    return options;
  }

  static grpc::Status Create(const std::string& image, const std::string& name,
                             const std::vector<std::string>& cmd, rt::Container* container) {
    grpc::ClientContext context;
    gw::CreateContainerRequest request;
    request.set_image(image);
    request.mutable_options()->set_name(name);
    for (const auto& arg : cmd) request.mutable_options()->add_cmd(arg);
    rt::CreateContainerResponse response;
    grpc::Status status = gateway_->CreateContainer(&context, request, &response);
    *container = response.container();
    return status;
  }

  static grpc::Status Commit(const gw::CommitRequest& request, ig::Image* image,
                             int* progress_messages = nullptr) {
    grpc::ClientContext context;
    auto reader = gateway_->Commit(&context, request);
    gw::CommitResponse response;
    int progress = 0;
    while (reader->Read(&response)) {
      if (response.has_progress()) ++progress;
      if (response.has_image()) *image = response.image();
    }
    if (progress_messages != nullptr) *progress_messages = progress;
    return reader->Finish();
  }

  static grpc::Status RemoveContainer(const std::string& container, bool force = true) {
    grpc::ClientContext context;
    rt::RemoveRequest request;
    request.set_container(container);
    request.set_force(force);
    rt::RemoveResponse response;
    return gateway_->RemoveContainer(&context, request, &response);
  }

  static grpc::Status RemoveImage(const std::string& ref, bool force,
                                  ig::DeleteImageResponse* response) {
    grpc::ClientContext context;
    ig::DeleteImageRequest request;
    request.set_ref(ref);
    request.set_force(force);
    return gateway_->RemoveImage(&context, request, response);
  }

  static e2e::Stack* stack_;
  static gw::Gateway::Stub* gateway_;
  static ig::ImageGraph::Stub* imagegraph_;
  static std::string* tarball_;
};

e2e::Stack* GatewayServiceTest::stack_ = nullptr;
gw::Gateway::Stub* GatewayServiceTest::gateway_ = nullptr;
ig::ImageGraph::Stub* GatewayServiceTest::imagegraph_ = nullptr;
std::string* GatewayServiceTest::tarball_ = nullptr;

TEST_F(GatewayServiceTest, ImportStreamsProgressAndRecordsRealSizes) {
  ig::Image image;
  std::vector<gw::Progress> progress;
  grpc::Status status = Import(*tarball_, "imported:1", &image, &progress, {"CMD [\"true\"]"});
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_FALSE(progress.empty());
  EXPECT_EQ(progress.front().action(), "Importing");
  EXPECT_EQ(progress.front().total(), static_cast<int64_t>(tarball_->size()));
  ASSERT_EQ(image.layers_size(), 1);
  // The compressed size is the blob's real size (it was 0 for imports once).
  EXPECT_GT(image.layers(0).size(), 0);
  EXPECT_GT(image.layers(0).uncompressed_size(), image.layers(0).size());
  EXPECT_THAT(image.tags(), ::testing::ElementsAre("imported:1"));
  EXPECT_THAT(image.config(), HasSubstr("Imported from busybox.tar.gz"));

  ig::Image ignored;
  EXPECT_CODE(Import("garbage, not a tar", "broken:1", &ignored, &progress), INVALID_ARGUMENT);
  EXPECT_CODE(Import(*tarball_, "Bad:Tag", &ignored, &progress), INVALID_ARGUMENT);
  EXPECT_CODE(Import(*tarball_, "x:1", &ignored, &progress, {"RUN rm -rf /"}), INVALID_ARGUMENT);
  grpc::ClientContext context;
  auto stream = gateway_->ImportImage(&context);
  gw::ImportImageRequest data_first;
  data_first.set_data("x");
  stream->Write(data_first);
  stream->WritesDone();
  gw::ImportImageResponse response;
  while (stream->Read(&response)) {
  }
  EXPECT_CODE(stream->Finish(), INVALID_ARGUMENT);
}

TEST_F(GatewayServiceTest, SaveImagesStreamsAnArchiveThatLoadImagesReadsBack) {
  std::string archive;
  auto save = [&](gw::SaveRequest request) {
    archive.clear();
    grpc::ClientContext context;
    auto reader = gateway_->SaveImages(&context, request);
    gw::SaveResponse response;
    while (reader->Read(&response)) {
      if (response.has_data()) archive += response.data();
    }
    return reader->Finish();
  };
  auto load = [&](const std::string& bytes, gw::LoadResult* result) {
    grpc::ClientContext context;
    auto stream = gateway_->LoadImages(&context);
    gw::LoadRequest first;
    first.mutable_options()->set_source("saved.tar");
    stream->Write(first);
    for (size_t at = 0; at < bytes.size(); at += 64 << 10) {
      gw::LoadRequest chunk;
      chunk.set_data(bytes.substr(at, 64 << 10));
      if (!stream->Write(chunk)) break;
    }
    stream->WritesDone();
    gw::LoadResponse response;
    while (stream->Read(&response)) {
      if (response.has_result()) *result = response.result();
    }
    return stream->Finish();
  };
  gw::SaveRequest request;
  request.add_images("base:1");
  for (const std::string format : {"docker-archive", "oci-archive"}) {
    request.set_format(format);
    grpc::Status saved = save(request);
    ASSERT_TRUE(saved.ok()) << format << ": " << saved.error_message();
    EXPECT_GT(archive.size(), 100000u);
    gw::LoadResult result;
    grpc::Status loaded = load(archive, &result);
    ASSERT_TRUE(loaded.ok()) << format << ": " << loaded.error_message();
    ASSERT_EQ(result.images_size(), 1);
    EXPECT_THAT(result.images(0).tags(), ::testing::ElementsAre("base:1"));
  }
  request.set_format("oci-dir");
  EXPECT_CODE(save(request), INVALID_ARGUMENT);
  request.set_format("docker-archive");
  request.set_images(0, "no-such:image");
  EXPECT_CODE(save(request), NOT_FOUND);
  gw::LoadResult ignored;
  EXPECT_CODE(load(archive.substr(0, archive.size() / 2), &ignored), INVALID_ARGUMENT);
  EXPECT_CODE(load(std::string(4096, 'x'), &ignored), INVALID_ARGUMENT);
}

TEST_F(GatewayServiceTest, CheckSystemVerifiesEveryBlobAndEndsWithTheResult) {
  ig::Image image;
  std::vector<gw::Progress> progress;
  ASSERT_TRUE(Import(*tarball_, "checked:1", &image, &progress).ok());
  grpc::ClientContext context;
  auto stream = gateway_->CheckSystem(&context, gw::CheckSystemRequest());
  gw::CheckSystemResponse response;
  std::optional<gw::CheckSystemResult> result;
  while (stream->Read(&response)) {
    if (response.has_result()) result = response.result();
  }
  ASSERT_TRUE(stream->Finish().ok());
  ASSERT_TRUE(result.has_value());
  EXPECT_GE(result->blobs_checked(), 1);
  EXPECT_GE(result->bytes_checked(), image.layers(0).size());
  EXPECT_EQ(result->damaged_size(), 0);
}

TEST_F(GatewayServiceTest, RunRelaysOutputStdinAndRemoves) {
  RunOutput echo = Run(RunOf("base:1", {"echo", "hi"}));
  ASSERT_TRUE(echo.status.ok()) << echo.status.error_message();
  EXPECT_EQ(echo.stdout_text, "hi\n");
  EXPECT_EQ(echo.exit_code, 0);
  EXPECT_EQ(echo.container.state(), rt::RUNNING);
  // --rm: gone once it exited.
  grpc::ClientContext context;
  rt::InspectRequest inspect;
  inspect.set_container(echo.container.id());
  rt::InspectResponse inspected;
  grpc::Status gone = gateway_->InspectContainer(&context, inspect, &inspected);
  EXPECT_CODE(gone, NOT_FOUND);
  EXPECT_THAT(gone.error_message(), HasSubstr("No such container: "));

  gw::RunOptions cat = RunOf("base:1", {"sh", "-c", "cat; exit 3"});
  cat.mutable_options()->set_open_stdin(true);
  RunOutput piped = Run(cat, "through stdin\n");
  ASSERT_TRUE(piped.status.ok()) << piped.status.error_message();
  EXPECT_EQ(piped.stdout_text, "through stdin\n");
  EXPECT_EQ(piped.exit_code, 3);

  EXPECT_CODE(Run(RunOf("no-such-image:1", {"true"})).status, NOT_FOUND);
  // Detached with remove: the runtime removes it once it exited.
  gw::RunOptions both = RunOf("base:1", {"true"});
  both.set_detach(true);
  RunOutput detached = Run(both);
  ASSERT_TRUE(detached.status.ok()) << detached.status.error_message();
  grpc::Status detached_gone;
  for (int attempt = 0; attempt < 100; ++attempt) {
    grpc::ClientContext poll;
    rt::InspectRequest request;
    request.set_container(detached.container.id());
    rt::InspectResponse response;
    detached_gone = gateway_->InspectContainer(&poll, request, &response);
    if (!detached_gone.ok()) break;
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_CODE(detached_gone, NOT_FOUND);
  gw::RunOptions missing = RunOf("base:1", {"no-such-command"});
  RunOutput failed = Run(missing);
  EXPECT_CODE(failed.status, FAILED_PRECONDITION);
  EXPECT_THAT(failed.status.error_message(), HasSubstr("executable file not found"));
}

TEST_F(GatewayServiceTest, CreateCommitHistoryDiffExportCopy) {
  rt::Container container;
  ASSERT_TRUE(
      Create("base:1", "worker", {"sh", "-c", "echo made > /made; rm /etc/del"}, &container).ok());
  {
    grpc::ClientContext context;
    rt::StartContainerRequest start;
    start.set_container("worker");
    rt::StartContainerResponse started;
    ASSERT_TRUE(gateway_->StartContainer(&context, start, &started).ok());
    grpc::ClientContext wait_context;
    rt::WaitRequest wait;
    wait.set_container("worker");
    rt::WaitResponse waited;
    ASSERT_TRUE(gateway_->WaitContainer(&wait_context, wait, &waited).ok());
    EXPECT_EQ(waited.status().exit_code(), 0);
  }
  {
    grpc::ClientContext context;
    rt::DiffRequest request;
    request.set_container("worker");
    auto reader = gateway_->Diff(&context, request);
    std::vector<std::string> changes;
    rt::DiffResponse batch;
    while (reader->Read(&batch)) {
      for (const auto& change : batch.changes()) changes.push_back(change.path());
    }
    ASSERT_TRUE(reader->Finish().ok());
    EXPECT_THAT(changes, ::testing::ElementsAre("/etc", "/etc/del", "/made"));
  }
  gw::CommitRequest commit;
  commit.set_container("worker");
  commit.set_tag("app:1");
  commit.set_author("Ann <ann@example.com>");
  commit.set_message("made a file");
  commit.add_changes("CMD [\"cat\", \"/made\"]");
  ig::Image image;
  int progress = 0;
  grpc::Status committed = Commit(commit, &image, &progress);
  ASSERT_TRUE(committed.ok()) << committed.error_message();
  EXPECT_GT(progress, 0);
  EXPECT_EQ(image.layers_size(), 2);
  EXPECT_GT(image.layers(1).size(), 0);
  {
    grpc::ClientContext context;
    ig::HistoryRequest request;
    request.set_ref("app:1");
    ig::HistoryResponse history;
    ASSERT_TRUE(gateway_->History(&context, request, &history).ok());
    ASSERT_EQ(history.entries_size(), 2);
    EXPECT_EQ(history.entries(0).author(), "Ann <ann@example.com>");
    EXPECT_EQ(history.entries(0).comment(), "made a file");
    EXPECT_THAT(history.entries(0).created_by(), HasSubstr("echo made > /made"));
  }
  RunOutput ran = Run(RunOf("app:1", {}));
  ASSERT_TRUE(ran.status.ok()) << ran.status.error_message();
  EXPECT_EQ(ran.stdout_text, "made\n");
  {
    grpc::ClientContext context;
    rt::ExportRequest request;
    request.set_container("worker");
    auto reader = gateway_->Export(&context, request);
    std::string tar;
    rt::DataChunk chunk;
    while (reader->Read(&chunk)) tar += chunk.data();
    ASSERT_TRUE(reader->Finish().ok());
    EXPECT_NE(tar.find("made\n"), std::string::npos);
    EXPECT_EQ(tar.size() % 512, 0u);
  }
  {
    grpc::ClientContext context;
    rt::CopyFromRequest request;
    request.set_container("worker");
    request.set_path("/made");
    auto reader = gateway_->CopyFrom(&context, request);
    rt::CopyFromResponse message;
    ASSERT_TRUE(reader->Read(&message));
    EXPECT_EQ(message.stat().name(), "made");
    EXPECT_EQ(message.stat().size(), 5);
    while (reader->Read(&message)) {
    }
    ASSERT_TRUE(reader->Finish().ok());
  }
  gw::CommitRequest bad = commit;
  bad.set_container("no-such-container");
  EXPECT_CODE(Commit(bad, &image), NOT_FOUND);
  bad = commit;
  bad.set_tag("Bad:Tag");
  EXPECT_CODE(Commit(bad, &image), INVALID_ARGUMENT);
  bad = commit;
  bad.add_changes("RUN true");
  EXPECT_CODE(Commit(bad, &image), INVALID_ARGUMENT);
  ASSERT_TRUE(RemoveContainer("worker").ok());
}

TEST_F(GatewayServiceTest, AnImageInUseIsKeptWhoeverAsks) {
  rt::Container container;
  ASSERT_TRUE(Create("base:1", "holder", {"sleep", "60"}, &container).ok());
  ig::DeleteImageResponse response;
  grpc::Status refused = RemoveImage("base:1", false, &response);
  EXPECT_CODE(refused, FAILED_PRECONDITION);
  EXPECT_THAT(refused.error_message(),
              HasSubstr(absl::StrCat("(must force) - container ", container.id().substr(0, 12),
                                     " is using its referenced image")));
  // Straight to imagegraph, forced: the image stays (untagged), the container still commits.
  ig::TagResponse tagged;
  {
    grpc::ClientContext context;
    ig::TagRequest tag;
    tag.set_image("base:1");
    tag.set_target("doomed:1");
    ASSERT_TRUE(gateway_->TagImage(&context, tag, &tagged).ok());
  }
  {
    grpc::ClientContext context;
    ig::DeleteImageRequest request;
    request.set_ref("doomed:1");
    request.set_force(true);
    ig::DeleteImageResponse direct;
    ASSERT_TRUE(imagegraph_->DeleteImage(&context, request, &direct).ok());
    EXPECT_TRUE(direct.deleted().empty());
  }
  // Running: refused even forced, in docker's words.
  {
    grpc::ClientContext context;
    rt::StartContainerRequest start;
    start.set_container("holder");
    rt::StartContainerResponse started;
    ASSERT_TRUE(gateway_->StartContainer(&context, start, &started).ok());
  }
  grpc::Status running = RemoveImage(tagged.image_id(), false, &response);
  EXPECT_CODE(running, FAILED_PRECONDITION);
  EXPECT_THAT(running.error_message(),
              HasSubstr("(cannot be forced) - image is being used by running container"));
  {
    grpc::ClientContext context;
    rt::KillRequest kill;
    kill.set_container("holder");
    rt::KillResponse killed;
    ASSERT_TRUE(gateway_->KillContainer(&context, kill, &killed).ok());
  }
  ASSERT_TRUE(RemoveContainer("holder").ok());
  // Removed, the container let go: the tag "doomed:1" went, base:1 remains.
  grpc::ClientContext context;
  ig::GetImageRequest get;
  get.set_ref("base:1");
  ig::GetImageResponse got;
  EXPECT_TRUE(gateway_->InspectImage(&context, get, &got).ok());
}

TEST_F(GatewayServiceTest, ErrorsNameWhatIsWrong) {
  grpc::ClientContext inspect_context;
  ig::GetImageRequest get;
  get.set_ref("nope:1");
  ig::GetImageResponse got;
  grpc::Status missing = gateway_->InspectImage(&inspect_context, get, &got);
  EXPECT_CODE(missing, NOT_FOUND);
  EXPECT_THAT(missing.error_message(), HasSubstr("No such image: nope:1"));

  grpc::ClientContext tag_context;
  ig::TagRequest tag;
  tag.set_image("base:1");
  tag.set_target("UPPER:case");
  ig::TagResponse tagged;
  EXPECT_CODE(gateway_->TagImage(&tag_context, tag, &tagged), INVALID_ARGUMENT);

  rt::Container container;
  EXPECT_CODE(Create("base:1", "bad name!", {"true"}, &container), INVALID_ARGUMENT);
  EXPECT_CODE(RemoveContainer("no-such-container"), NOT_FOUND);

  grpc::ClientContext kill_context;
  rt::KillRequest kill;
  kill.set_container("no-such-container");
  rt::KillResponse killed;
  EXPECT_CODE(gateway_->KillContainer(&kill_context, kill, &killed), NOT_FOUND);
}

TEST_F(GatewayServiceTest, TheLayerLimitSaysSquash) {
  // The runtime mounts at most 3 layers here: base and two commits above it still run; the
  // third commit makes an image of 4 layers, which no container can be made from.
  std::string image = "base:1";
  for (int i = 0; i < 3; ++i) {
    RunOutput ran = Run(RunOf(image, {"sh", "-c", absl::StrCat("echo ", i, " > /f")},
                              /*remove=*/false));
    ASSERT_TRUE(ran.status.ok()) << ran.status.error_message();
    gw::CommitRequest commit;
    commit.set_container(ran.container.id());
    commit.set_tag(absl::StrCat("stack:", i));
    ig::Image committed;
    ASSERT_TRUE(Commit(commit, &committed).ok());
    EXPECT_EQ(committed.layers_size(), i + 2);
    ASSERT_TRUE(RemoveContainer(ran.container.id()).ok());
    image = absl::StrCat("stack:", i);
  }
  rt::Container container;
  grpc::Status over = Create(image, "over", {"true"}, &container);
  EXPECT_CODE(over, FAILED_PRECONDITION);
  EXPECT_THAT(over.error_message(), HasSubstr("squash"));
}

}  // namespace
}  // namespace strata::gateway
