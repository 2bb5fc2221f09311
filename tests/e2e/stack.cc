#include "tests/e2e/stack.h"

#include <stdlib.h>
#include <unistd.h>

#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "lib/base/errors.h"
#include "lib/base/fs.h"
#include "lib/testing/subprocess.h"
#include "services/runtime/testing/runtime_fixture.h"

namespace strata::e2e {

using strata::testing::RunfilePath;
using strata::testing::ServiceProcess;

absl::StatusOr<std::unique_ptr<Stack>> Stack::Start(int max_layers) {
  std::unique_ptr<Stack> stack(new Stack());
  std::string run_dir = "/tmp/strata-e2e.XXXXXX";
  if (::mkdtemp(run_dir.data()) == nullptr) return ErrnoStatus(errno, "mkdtemp");
  stack->run_dir_ = run_dir;
  ASSIGN_OR_RETURN(stack->postgres_, strata::testing::PostgresServer::Start());
  ASSIGN_OR_RETURN(stack->imagegraph_,
                   ServiceProcess::Start(RunfilePath("services/imagegraph/strata-imagegraph"),
                                         {"--database=" + stack->postgres_->connection_string()}));
  // Garbage collection asks imagegraph which blobs images need.
  ASSIGN_OR_RETURN(stack->layerstore_,
                   ServiceProcess::Start(RunfilePath("services/layerstore/strata-layerstore"),
                                         {"--root=" + stack->dir_.Join("layerstore"),
                                          "--gc-imagegraph=" + stack->imagegraph_->address(),
                                          "--gc-min-age=2s"}));
  ASSIGN_OR_RETURN(
      stack->runtime_,
      ServiceProcess::Start(
          RunfilePath("services/runtime/strata-runtime"),
          {"--root=" + stack->dir_.Join("runtime"), "--run-dir=" + run_dir,
           "--layerstore=" + stack->layerstore_->address(),
           "--monitor=" + RunfilePath("services/runtime/monitor/strata-runtime-monitor"),
           absl::StrCat("--max-layers=", max_layers)}));
  ASSIGN_OR_RETURN(stack->gateway_,
                   ServiceProcess::Start(RunfilePath("cli/service/strata-gateway"),
                                         {"--layerstore=" + stack->layerstore_->address(),
                                          "--imagegraph=" + stack->imagegraph_->address(),
                                          "--runtime=" + stack->runtime_->address()}));
  return stack;
}

Stack::~Stack() {
  // Containers go first: their monitors and mounts outlive the runtime otherwise.
  CommandResult listing = Strata({"ps", "-aq", "--no-trunc"});
  for (absl::string_view id : absl::StrSplit(listing.output, '\n', absl::SkipEmpty())) {
    Strata({"rm", "-f", std::string(id)});
  }
  gateway_.reset();
  runtime_.reset();
  imagegraph_.reset();
  layerstore_.reset();
  postgres_.reset();
  (void)RemoveAll(run_dir_);
}

std::vector<std::string> Stack::Env() const {
  return {"STRATA_LAYERSTORE=" + layerstore_->address(),
          "STRATA_IMAGEGRAPH=" + imagegraph_->address(), "STRATA_RUNTIME=" + runtime_->address(),
          "STRATA_GATEWAY=" + gateway_->address()};
}

std::string Stack::StrataBinary() const { return RunfilePath("cli/strata"); }

CommandResult Stack::Strata(const std::vector<std::string>& args, const std::string& stdin_data) {
  std::vector<std::string> argv = {StrataBinary()};
  argv.insert(argv.end(), args.begin(), args.end());
  absl::StatusOr<CommandResult> result = RunCommand(
      argv, {.env = Env(), .stdin_data = stdin_data, .separate_stderr = true});
  if (!result.ok()) return CommandResult{-1, "", std::string(result.status().message())};
  return *result;
}

absl::StatusOr<std::string> Stack::BusyboxTarball(const std::string& compression) {
  const std::string rootfs = dir_.Join("busybox-rootfs");
  if (!PathExists(rootfs)) {
    RETURN_IF_ERROR(MakeDirs(rootfs));
    runtime::testing::BuildBusyboxRootfs(rootfs);
    RETURN_IF_ERROR(WriteFileAtomically(rootfs + "/etc/keep", "keep\n"));
    RETURN_IF_ERROR(WriteFileAtomically(rootfs + "/etc/del", "del\n"));
    // Times well in the past: podman (containers/storage) takes a directory whose lower
    // mtime has whole seconds and equals the upper one to the second as unchanged, so a
    // container that changes /tmp within the second the tarball was made would be "no
    // change" to podman and "C /tmp" to us.
    RETURN_IF_ERROR(RunCommandOk(
        {"find", rootfs, "-exec", "touch", "-h", "-d", "@946684800", "{}", "+"}));
  }
  static const std::map<std::string, std::pair<std::string, std::string>> kCompressors = {
      {"none", {"cat", "tar"}},        {"gzip", {"gzip -c", "tar.gz"}},
      {"bzip2", {"bzip2 -c", "tar.bz2"}}, {"xz", {"xz -c -T1", "tar.xz"}},
      {"zstd", {"zstd -q -c", "tar.zst"}}};
  auto it = kCompressors.find(compression);
  if (it == kCompressors.end()) return absl::InvalidArgumentError("unknown compression");
  const std::string path = dir_.Join("busybox." + it->second.second);
  RETURN_IF_ERROR(RunCommandOk({"/bin/sh", "-c",
                                absl::StrCat("tar -C ", rootfs, " -cf - . | ", it->second.first,
                                             " > ", path)}));
  return path;
}

}  // namespace strata::e2e
