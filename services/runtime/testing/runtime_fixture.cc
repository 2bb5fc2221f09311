#include "services/runtime/testing/runtime_fixture.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "lib/base/errors.h"
#include "lib/base/fs.h"
#include "lib/layer/layer_writer.h"
#include "lib/rpc/client.h"
#include "lib/testing/subprocess.h"
#include "lib/testing/tree.h"

namespace strata::runtime::testing {

using strata::testing::MakeDirOrDie;
using strata::testing::RunfilePath;
using strata::testing::WriteFileOrDie;

void BuildBusyboxRootfs(const std::string& dir) {
  for (const char* sub : {"bin", "etc", "root", "tmp", "home/app", "usr/bin", "var"}) {
    MakeDirOrDie(absl::StrCat(dir, "/", sub));
  }
  ASSERT_EQ(::chmod((dir + "/tmp").c_str(), 01777), 0);
  ASSERT_TRUE(strata::testing::RunOk({"cp", "/bin/busybox", dir + "/bin/busybox"}).ok())
      << "busybox-static is needed: apt-get install busybox-static";
  auto applets = strata::testing::Run({"/bin/busybox", "--list"});
  ASSERT_TRUE(applets.ok());
  for (absl::string_view applet : absl::StrSplit(applets->output, '\n', absl::SkipEmpty())) {
    const std::string link = absl::StrCat(dir, "/bin/", applet);
    if (!PathExists(link)) {
      ASSERT_EQ(::symlink("busybox", link.c_str()), 0);
    }
  }
  WriteFileOrDie(dir + "/etc/passwd",
                 "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n");
  WriteFileOrDie(dir + "/etc/group", "root:x:0:\napp:x:1000:\nextra:x:2000:app\n");
  ASSERT_EQ(::chown((dir + "/home/app").c_str(), 1000, 1000), 0);
}

absl::StatusOr<ProcessResult> Collect(ProcessStream* stream) {
  ProcessResult result;
  for (;;) {
    ASSIGN_OR_RETURN(std::optional<Frame> frame, stream->Next());
    if (!frame) return absl::DataLossError("the stream ended without an exit status");
    switch (frame->type) {
      case FrameType::kStdout:
        result.stdout_text += frame->payload;
        break;
      case FrameType::kStderr:
        result.stderr_text += frame->payload;
        break;
      case FrameType::kExit: {
        int32_t code = 0;
        int64_t finished = 0;
        DecodeExit(frame->payload, &code, &finished);
        result.exit_code = code;
        return result;
      }
      default:
        break;
    }
  }
}

RuntimeFixture::RuntimeFixture() {
  root_ = dir_.Join("state");
  // Unix socket paths are short: the monitors' sockets go under /tmp.
  std::string run_dir = "/tmp/strata-run.XXXXXX";
  EXPECT_NE(::mkdtemp(run_dir.data()), nullptr);
  run_dir_ = run_dir;
  auto layerstore = strata::testing::ServiceProcess::Start(
      RunfilePath("services/layerstore/strata-layerstore"), {"--root=" + dir_.Join("blobs")});
  EXPECT_TRUE(layerstore.ok()) << layerstore.status();
  layerstore_ = std::move(*layerstore);
  blobs_ = std::make_unique<LayerstoreBlobs>(*rpc::Dial({.address = layerstore_->address()}));
  OpenRuntime(200, nullptr);
}

void RuntimeFixture::OpenRuntime(int max_layers, BlobStore* blobs) {
  RuntimeOptions options;
  options.root = root_;
  options.run_dir = run_dir_;
  options.monitor = RunfilePath("services/runtime/monitor/strata-runtime-monitor");
  options.max_layers = max_layers;
  auto runtime = Runtime::Open(options, blobs != nullptr ? blobs : blobs_.get());
  ASSERT_TRUE(runtime.ok()) << runtime.status();
  runtime_ = std::move(*runtime);
}

void RuntimeFixture::RestartRuntime(int max_layers, BlobStore* blobs) {
  runtime_.reset();
  OpenRuntime(max_layers, blobs);
}

RuntimeFixture::~RuntimeFixture() {
  if (runtime_) {
    for (const ContainerRecord& record : runtime_->List(true)) {
      (void)runtime_->Remove(record.id, /*force=*/true);
    }
  }
  runtime_.reset();
  (void)RemoveAll(run_dir_);
}

absl::StatusOr<oci::LayerDescriptor> RuntimeFixture::PushLayer(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoStatus(errno, "open " + dir);
  ASSIGN_OR_RETURN(std::unique_ptr<BlobUpload> upload,
                   blobs_->StartUpload(absl::StrCat("test-", absl::ToUnixNanos(absl::Now()))));
  ASSIGN_OR_RETURN(layer::LayerDigests digests,
                   layer::WriteOverlayUpperAsLayer(fd.get(), {}, upload.get()));
  RETURN_IF_ERROR(upload->Commit(digests.digest, static_cast<int64_t>(digests.size)));
  return oci::LayerDescriptor{digests.digest, digests.diff_id, "application/vnd.oci.image.layer.v1.tar+zstd",
                    static_cast<int64_t>(digests.size),
                    static_cast<int64_t>(digests.uncompressed_size)};
}

oci::LayerDescriptor RuntimeFixture::BusyboxLayer() {
  if (!busybox_) {
    const std::string rootfs = dir_.Join("busybox");
    MakeDirOrDie(rootfs);
    BuildBusyboxRootfs(rootfs);
    auto layer = PushLayer(rootfs);
    EXPECT_TRUE(layer.ok()) << layer.status();
    busybox_ = *layer;
  }
  return *busybox_;
}

absl::StatusOr<ContainerRecord> RuntimeFixture::CreateContainer(
    const std::vector<oci::LayerDescriptor>& layers, const std::vector<std::string>& args,
    const std::string& name, bool tty, bool stdin) {
  CreateSpec spec;
  spec.name = name;
  spec.image_id = "sha256:" + std::string(64, '0');
  spec.image_ref = "test:latest";
  spec.layers = layers;
  spec.image_spec.env = {"PATH=/bin:/usr/bin"};
  spec.overrides.cmd = args;
  spec.tty = tty;
  spec.open_stdin = stdin;
  return runtime_->Create(spec);
}

absl::StatusOr<ProcessResult> RuntimeFixture::Run(const std::vector<oci::LayerDescriptor>& layers,
                                                  const std::vector<std::string>& args) {
  ASSIGN_OR_RETURN(ContainerRecord record, CreateContainer(layers, args));
  ASSIGN_OR_RETURN(StartResult started, runtime_->Start(record.id));
  ASSIGN_OR_RETURN(std::unique_ptr<ProcessStream> stream,
                   runtime_->Attach(record.id, false, started.log_offset));
  return Collect(stream.get());
}

}  // namespace strata::runtime::testing
