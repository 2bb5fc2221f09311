// Commands that move images as archives: save and load (docker's flags and words).

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <memory>
#include <string>
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

int Save(Globals& globals, const gw::SaveRequest& request, const std::string& output) {
  gateway::Gateway gateway(globals.Endpoints());
  TerminalProgress progress;
  if (request.format() == "oci-dir") {
    if (output.empty()) return Fail("--format oci-dir needs a directory: give it with -o");
    absl::Status saved = gateway.SaveToDirectory(request, output, &progress);
    if (!saved.ok()) return Fail(saved);
    progress.Done();
    return 0;
  }
  if (output.empty() && IsTerminal(STDOUT_FILENO)) {
    return Fail("cowardly refusing to save to a terminal. Use the -o flag or redirect");
  }
  FileOutput out("strata-save", FileOutput::Symlinks::kFollow);
  if (absl::Status opened = out.Open(output); !opened.ok()) return Fail(opened);
  layer::BufferingSink buffered(out.sink(), 1 << 20);
  absl::Status saved = gateway.Save(request, &buffered, &progress);
  if (saved.ok()) saved = buffered.Close();
  if (saved.ok()) saved = out.Commit();
  if (!saved.ok()) return Fail(saved);
  progress.Done();
  return 0;
}

int Load(Globals& globals, const std::string& input, bool quiet) {
  gateway::Gateway gateway(globals.Endpoints());
  std::unique_ptr<TerminalProgress> progress;
  gateway::NoProgress silent;
  gateway::ProgressObserver* observer = &silent;
  if (!quiet) {
    progress = std::make_unique<TerminalProgress>();
    observer = progress.get();
  }
  absl::StatusOr<gw::LoadResult> result;
  struct stat st;
  if (!input.empty() && ::stat(input.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    result = gateway.LoadDirectory(input, observer);
  } else {
    UniqueFd file;
    int fd = STDIN_FILENO;
    if (!input.empty()) {
      file.Reset(::open(input.c_str(), O_RDONLY | O_CLOEXEC));
      if (!file.valid()) return Fail(ErrnoStatus(errno, "open " + input));
      ::posix_fadvise(file.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
      fd = file.get();
    } else if (IsTerminal(STDIN_FILENO)) {
      return Fail(
          "requested load from stdin, but stdin is empty: use -i FILE or pipe an archive in");
    }
    layer::FdSource source(fd);
    gw::LoadOptions options;
    options.set_source(input.empty() ? "-" : input);
    result = gateway.Load(options, &source, observer);
  }
  if (!result.ok()) return Fail(result.status());
  if (progress) progress->Done();
  for (const gw::LoadedImage& image : result->images()) {
    if (image.tags().empty()) std::printf("Loaded image ID: %s\n", image.id().c_str());
    for (const std::string& tag : image.tags()) std::printf("Loaded image: %s\n", tag.c_str());
  }
  return 0;
}

}  // namespace

void RegisterArchiveCommands(CLI::App& app, Globals& globals, int* exit_code) {
  {
    CLI::App* command = app.add_subcommand(
        "save", "Save one or more images to a tar archive (streamed to STDOUT by default)");
    auto output = std::make_shared<std::string>();
    auto format = std::make_shared<std::string>("docker-archive");
    auto compression = std::make_shared<std::string>();
    auto images = std::make_shared<std::vector<std::string>>();
    command->add_option("-o,--output", *output, "Write to a file (a directory for oci-dir)");
    command->add_option("--format", *format, "docker-archive (default), oci-archive or oci-dir")
        ->check(CLI::IsMember({"docker-archive", "oci-archive", "oci-dir"}));
    command
        ->add_option("--compression-format", *compression,
                     "Layers of oci-archive and oci-dir: gzip (default) or zstd")
        ->check(CLI::IsMember({"gzip", "zstd"}));
    command->add_option("images", *images, "IMAGE...")->required();
    command->callback([=, &globals] {
      gw::SaveRequest request;
      for (const std::string& image : *images) request.add_images(image);
      request.set_format(*format);
      if (*compression == "gzip") request.set_compression(types::v1::COMPRESSION_GZIP);
      if (*compression == "zstd") request.set_compression(types::v1::COMPRESSION_ZSTD);
      *exit_code = Save(globals, request, *output);
    });
  }
  CLI::App* command = app.add_subcommand(
      "load",
      "Load images from a tar archive or STDIN (docker-archive, oci-archive, OCI layout "
      "directory; any compression)");
  auto input = std::make_shared<std::string>();
  auto quiet = std::make_shared<bool>(false);
  command->add_option("-i,--input", *input, "Read from tar archive file, instead of STDIN");
  command->add_flag("-q,--quiet", *quiet, "Suppress the load output");
  command->callback([=, &globals] { *exit_code = Load(globals, *input, *quiet); });
}

}  // namespace strata::cli
