// Commands that move file systems in and out: commit, export, cp, import.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "cli/core/gateway.h"
#include "cli/file_output.h"
#include "cli/progress.h"
#include "cli/terminal.h"
#include "cli/util.h"
#include "lib/base/errors.h"
#include "lib/base/fs.h"
#include "lib/layer/stream.h"

namespace strata::cli {
namespace {

namespace gw = ::strata::gateway::v1;
namespace ig = ::strata::imagegraph::v1;
namespace rt = ::strata::runtime::v1;

int Commit(Globals& globals, const gw::CommitRequest& request) {
  gateway::Gateway gateway(globals.Endpoints());
  TerminalProgress progress;
  ASSIGN_OR_FAIL(ig::Image image, gateway.Commit(request, &progress));
  progress.Done();
  std::printf("%s\n", image.id().c_str());
  return 0;
}

// Writes to a sink, counting for the progress line.
class ProgressSink : public layer::ByteSink {
 public:
  ProgressSink(layer::ByteSink* sink, TerminalProgress* progress)
      : sink_(sink), progress_(progress) {}
  absl::Status Write(absl::string_view data) override {
    RETURN_IF_ERROR(sink_->Write(data));
    progress_->Add("Exporting", static_cast<int64_t>(data.size()));
    return absl::OkStatus();
  }

 private:
  layer::ByteSink* sink_;
  TerminalProgress* progress_;
};

int Export(Globals& globals, const std::string& container, const std::string& output) {
  if (output.empty() && IsTerminal(STDOUT_FILENO)) {
    return Fail("cowardly refusing to save to a terminal. Use the -o flag or redirect");
  }
  FileOutput out("strata-export", FileOutput::Symlinks::kWriteThrough);
  if (absl::Status opened = out.Open(output); !opened.ok()) return Fail(opened);
  gateway::Gateway gateway(globals.Endpoints());
  TerminalProgress progress;
  ProgressSink sink(out.sink(), &progress);
  absl::Status exported = gateway.Export(container, &sink);
  if (exported.ok()) exported = out.Commit();
  if (!exported.ok()) return Fail(exported);
  progress.Done();
  return 0;
}

// docker's splitCpArg: "CONTAINER:PATH", or a local path (one starting with "/" or ".", or
// holding no colon). Returns the container ("" for a local path) and the path.
std::pair<std::string, std::string> SplitCopyArgument(const std::string& argument) {
  if (argument.empty() || argument[0] == '/' || argument[0] == '.') return {"", argument};
  const size_t colon = argument.find(':');
  if (colon == std::string::npos || colon == 0) return {"", argument};
  return {argument.substr(0, colon), argument.substr(colon + 1)};
}

int Copy(Globals& globals, const std::string& source, const std::string& destination,
         bool follow_link, bool archive) {
  auto [from_container, from_path] = SplitCopyArgument(source);
  auto [to_container, to_path] = SplitCopyArgument(destination);
  if (!from_container.empty() && !to_container.empty()) {
    return Fail("copying between containers is not supported");
  }
  if (from_container.empty() && to_container.empty()) {
    return Fail("must specify at least one container source");
  }
  gateway::Gateway gateway(globals.Endpoints());
  if (!to_container.empty()) {
    rt::CopyToOptions options;
    options.set_container(to_container);
    if (to_path.empty() || to_path[0] != '/') to_path = "/" + to_path;  // docker: relative to /
    options.set_path(to_path);
    options.set_keep_owner(archive);
    absl::Status copied;
    if (source == "-") {
      if (IsTerminal(STDIN_FILENO)) return Fail("copy from a terminal: pipe a tar into it");
      layer::FdSource input(STDIN_FILENO);
      copied = gateway.CopyTo(options, [&input](layer::ByteSink* sink) -> absl::Status {
        for (;;) {
          ASSIGN_OR_RETURN(absl::string_view chunk, input.Read());
          if (chunk.empty()) return absl::OkStatus();
          RETURN_IF_ERROR(sink->Write(chunk));
        }
      });
    } else {
      copied = gateway.CopyFromLocal(options, from_path, follow_link);
    }
    return copied.ok() ? 0 : Fail(copied);
  }
  rt::CopyFromRequest request;
  request.set_container(from_container);
  std::string path = from_path;
  if (path.empty() || path[0] != '/') path = "/" + path;  // docker: relative to /
  request.set_path(path);
  request.set_follow_link(follow_link);
  if (destination != "-") {
    absl::Status copied = gateway.CopyToLocal(request, destination);
    return copied.ok() ? 0 : Fail(copied);
  }
  if (IsTerminal(STDOUT_FILENO)) {
    return Fail("cowardly refusing to write a tar to a terminal: redirect it, or give a path");
  }
  layer::FdSink out(STDOUT_FILENO);
  absl::Status copied = gateway.CopyFrom(
      request, [](const rt::PathStat&) { return absl::OkStatus(); }, &out);
  return copied.ok() ? 0 : Fail(copied);
}

int Import(Globals& globals, gw::ImportOptions options, const std::string& file) {
  if (file.rfind("http://", 0) == 0 || file.rfind("https://", 0) == 0) {
    gateway::Gateway gateway(globals.Endpoints());
    TerminalProgress progress;
    ASSIGN_OR_FAIL(ig::Image image, gateway.ImportImageFromUrl(options, file, &progress));
    progress.Done();
    std::printf("%s\n", image.id().c_str());
    return 0;
  }
  UniqueFd input;
  if (file == "-") {
    if (IsTerminal(STDIN_FILENO)) return Fail("import from a terminal: pipe a tarball into it");
    input.Reset(::dup(STDIN_FILENO));
  } else {
    input.Reset(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
    if (!input.valid()) return Fail(ErrnoStatus(errno, "open " + file));
    struct stat st;
    if (::fstat(input.get(), &st) == 0 && S_ISREG(st.st_mode)) options.set_size(st.st_size);
    ::posix_fadvise(input.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
  }
  options.set_source(file);
  gateway::Gateway gateway(globals.Endpoints());
  TerminalProgress progress;
  layer::FdSource tarball(input.get());
  ASSIGN_OR_FAIL(ig::Image image, gateway.ImportImage(options, &tarball, &progress));
  progress.Done();
  std::printf("%s\n", image.id().c_str());
  return 0;
}

void RegisterCommit(CLI::App& app, Globals& globals, int* exit_code) {
  CLI::App* command =
      app.add_subcommand("commit", "Create a new image from a container's changes");
  auto request = std::make_shared<gw::CommitRequest>();
  auto changes = std::make_shared<std::vector<std::string>>();
  auto pause = std::make_shared<bool>(true);
  auto pause_off = std::make_shared<bool>(false);
  auto compression = std::make_shared<std::string>("zstd");
  command->add_option("-a,--author", *request->mutable_author(),
                      "Author (e.g. \"Jane <jane@example.com>\")");
  command->add_option("-m,--message", *request->mutable_message(), "Commit message");
  command->add_option("-c,--change", *changes,
                      "Apply a Dockerfile instruction: CMD, ENTRYPOINT, ENV, LABEL, WORKDIR, "
                      "USER, EXPOSE, STOPSIGNAL, VOLUME")
      ->allow_extra_args(false);
  command->add_flag("-p,--pause", *pause,
                    "Pause the container during the commit (default; -p=false commits live)");
  command->add_flag("--pause-off", *pause_off)->group("");
  command->add_option("--compression", *compression,
                      "Layer compression: zstd (default), gzip or none")
      ->check(CLI::IsMember({"zstd", "gzip", "none"}));
  command->add_option("container", *request->mutable_container(), "CONTAINER")->required();
  command->add_option("repository", *request->mutable_tag(), "[REPOSITORY[:TAG]]");
  command->callback([=, &globals] {
    for (const std::string& change : *changes) request->add_changes(change);
    request->set_pause(*pause && !*pause_off);
    request->set_compression(*compression == "gzip"   ? types::v1::COMPRESSION_GZIP
                             : *compression == "none" ? types::v1::COMPRESSION_NONE
                                                      : types::v1::COMPRESSION_ZSTD);
    *exit_code = Commit(globals, *request);
  });
}

void RegisterExportAndCp(CLI::App& app, Globals& globals, int* exit_code) {
  {
    CLI::App* command =
        app.add_subcommand("export", "Export a container's filesystem as a tar archive");
    auto output = std::make_shared<std::string>();
    auto container = std::make_shared<std::string>();
    command->add_option("-o,--output", *output, "Write to a file, instead of STDOUT");
    command->add_option("container", *container, "CONTAINER")->required();
    command->callback([=, &globals] { *exit_code = Export(globals, *container, *output); });
  }
  CLI::App* command = app.add_subcommand(
      "cp", "Copy files/folders between a container and the local filesystem (\"-\": a tar "
            "on STDIN or STDOUT)");
  auto follow = std::make_shared<bool>(false);
  auto archive = std::make_shared<bool>(false);
  command->add_flag("-a,--archive", *archive, "Archive mode (copy all uid/gid information)");
  auto source = std::make_shared<std::string>();
  auto destination = std::make_shared<std::string>();
  command->add_flag("-L,--follow-link", *follow, "Follow a symbolic link in SRC_PATH");
  command->add_option("source", *source, "CONTAINER:SRC_PATH | SRC_PATH | -")->required();
  command->add_option("destination", *destination, "DEST_PATH | - | CONTAINER:DEST_PATH")
      ->required();
  command->callback([=, &globals] {
    *exit_code = Copy(globals, *source, *destination, *follow, *archive);
  });
}

void RegisterImport(CLI::App& app, Globals& globals, int* exit_code) {
  CLI::App* command = app.add_subcommand(
      "import", "Import the contents from a tarball (none/gzip/bzip2/xz/zstd) to create an image");
  auto options = std::make_shared<gw::ImportOptions>();
  auto changes = std::make_shared<std::vector<std::string>>();
  auto file = std::make_shared<std::string>();
  command->add_option("-c,--change", *changes, "Apply a Dockerfile instruction")
      ->allow_extra_args(false);
  command->add_option("-m,--message", *options->mutable_message(),
                      "Commit message for the image");
  command->add_option("file", *file, "FILE|URL|-")->required();
  command->add_option("repository", *options->mutable_tag(), "[REPOSITORY[:TAG]]");
  command->callback([=, &globals] {
    for (const std::string& change : *changes) options->add_changes(change);
    *exit_code = Import(globals, *options, *file);
  });
}

}  // namespace

void RegisterTransferCommands(CLI::App& app, Globals& globals, int* exit_code) {
  RegisterCommit(app, globals, exit_code);
  RegisterExportAndCp(app, globals, exit_code);
  RegisterImport(app, globals, exit_code);
}

}  // namespace strata::cli
