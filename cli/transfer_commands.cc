// Commands that move file systems in and out: commit, export, cp, import.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "cli/changes.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "cli/gateway.h"
#include "cli/progress.h"
#include "cli/terminal.h"
#include "cli/util.h"
#include "lib/base/errors.h"
#include "lib/base/fs.h"
#include "lib/layer/compression.h"
#include "lib/layer/layer_reader.h"
#include "lib/layer/safe_fs.h"
#include "lib/layer/stream.h"
#include "lib/layer/unpacker.h"
#include "lib/oci/image_config.h"
#include "lib/reference/reference.h"

namespace strata::cli {
namespace {

// Registers an image: its config, layers and tags, in one imagegraph transaction.
absl::StatusOr<ig::Image> RegisterImage(Gateway& gateway, const oci::ImageConfig& config,
                                        const std::vector<types::v1::LayerDescriptor>& layers,
                                        const std::string& parent_id, const std::string& tag) {
  ASSIGN_OR_RETURN(ig::ImageGraph::Stub * images, gateway.Images());
  ig::CreateImageRequest request;
  request.set_config(config.Serialize());
  for (const auto& layer : layers) *request.add_layers() = layer;
  request.set_parent_id(parent_id);
  if (!tag.empty()) request.add_tags(tag);
  ig::CreateImageResponse response;
  grpc::Status status = images->CreateImage(Gateway::Unary().get(), request, &response);
  if (!status.ok()) return gateway.ImagesError(status);
  return response.image();
}

// "" or a normalized "repo:tag". Errors: INVALID_ARGUMENT with the rule broken.
absl::StatusOr<std::string> TargetTag(const std::string& text) {
  if (text.empty()) return std::string();
  ASSIGN_OR_RETURN(Reference reference, ParseReference(text));
  if (!reference.digest.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", text, "\": a new image is named by repository and tag, not digest"));
  }
  return reference.ToString();
}

struct CommitOptions {
  std::string compression = "zstd";
  std::string author;
  std::string message;
  std::vector<std::string> changes;
  bool pause = true;
  bool pause_off = false;
};

int Commit(Globals& globals, const CommitOptions& options, const std::string& container,
           const std::string& target) {
  absl::StatusOr<std::string> tag = TargetTag(target);
  if (!tag.ok()) return Fail(tag.status());
  // Check the changes before the slow part.
  oci::RunConfig probe;
  if (absl::Status status = ApplyChanges(options.changes, probe); !status.ok()) {
    return Fail(status);
  }
  Gateway gateway(globals);
  absl::StatusOr<rt::Runtime::Stub*> runtime = gateway.Runtime();
  if (!runtime.ok()) return Fail(runtime.status());

  rt::CommitRequest request;
  request.set_container(container);
  request.set_pause(options.pause && !options.pause_off);
  request.set_compression(options.compression == "gzip"   ? types::v1::COMPRESSION_GZIP
                          : options.compression == "none" ? types::v1::COMPRESSION_NONE
                                                          : types::v1::COMPRESSION_ZSTD);
  rt::CommitResponse committed;
  {
    Progress progress("Committing");
    absl::Notification done;
    std::thread ticker([&] {
      while (!done.WaitForNotificationWithTimeout(absl::Milliseconds(200))) progress.Tick();
    });
    grpc::ClientContext context;
    grpc::Status status = (*runtime)->Commit(&context, request, &committed);
    done.Notify();
    ticker.join();
    if (!status.ok()) return Fail(gateway.RuntimeError(status));
    progress.Done();
  }

  absl::StatusOr<ig::Image> parent = gateway.GetImage(committed.image_id());
  if (!parent.ok()) {
    return Fail(absl::StrCat("the image the container was created from (",
                             ShortId(committed.image_id()), ") is gone: ",
                             parent.status().message()));
  }
  absl::StatusOr<oci::ImageConfig> config = oci::ImageConfig::Parse(parent->config());
  if (!config.ok()) return Fail(config.status());

  // The new image runs what the container ran (docker's rules), then the changes.
  oci::RunConfig run = config->run_config();
  const rt::RunConfig& ran = committed.config();
  run.entrypoint.reset();
  if (ran.entrypoint_size() > 0) {
    run.entrypoint = std::vector<std::string>(ran.entrypoint().begin(), ran.entrypoint().end());
  }
  run.cmd.reset();
  if (ran.cmd_size() > 0) run.cmd = std::vector<std::string>(ran.cmd().begin(), ran.cmd().end());
  run.env.assign(ran.env().begin(), ran.env().end());
  run.working_dir = ran.working_dir();
  run.user = ran.user();
  run.stop_signal = ran.stop_signal();
  run.labels = std::map<std::string, std::string>(ran.labels().begin(), ran.labels().end());
  if (absl::Status status = ApplyChanges(options.changes, run); !status.ok()) return Fail(status);
  config->set_run_config(run);
  const std::string created = oci::FormatRfc3339(absl::Now());
  config->set_created(created);
  config->set_author(options.author);
  oci::History step{created, absl::StrJoin(committed.args(), " "), options.author,
                    options.message, false};

  std::vector<types::v1::LayerDescriptor> layers(parent->layers().begin(),
                                                 parent->layers().end());
  if (committed.empty()) {
    config->AddEmptyStep(step);
  } else {
    absl::StatusOr<Digest> diff_id = Digest::Parse(committed.layer().diff_id());
    if (!diff_id.ok()) return Fail(diff_id.status());
    config->AddLayer(*diff_id, step);
    layers.push_back(committed.layer());
  }
  absl::StatusOr<ig::Image> image = RegisterImage(gateway, *config, layers, parent->id(), *tag);
  if (!image.ok()) return Fail(image.status());
  std::printf("%s\n", image->id().c_str());
  return 0;
}

// Writes received bytes to a descriptor, counting them for the progress line.
int Export(Globals& globals, const std::string& container, const std::string& output) {
  if (output.empty() && IsTerminal(STDOUT_FILENO)) {
    return Fail("cowardly refusing to save to a terminal. Use the -o flag or redirect");
  }
  Gateway gateway(globals);
  absl::StatusOr<rt::Runtime::Stub*> runtime = gateway.Runtime();
  if (!runtime.ok()) return Fail(runtime.status());
  UniqueFd file;
  std::string temp;
  if (!output.empty()) {
    // A regular file (or a new one) is replaced whole once complete; anything else (a
    // device, a FIFO, a symlink to one) is written to as it is.
    struct stat st;
    const bool replace = ::lstat(output.c_str(), &st) != 0 || S_ISREG(st.st_mode);
    if (replace) {
      temp = absl::StrCat(output, ".strata-export-", ::getpid());
      file.Reset(::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    } else {
      file.Reset(::open(output.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC));
    }
    if (!file.valid()) return Fail(ErrnoStatus(errno, "open " + output));
  }
  const int fd = output.empty() ? STDOUT_FILENO : file.get();
  grpc::ClientContext context;
  rt::ExportRequest request;
  request.set_container(container);
  auto reader = (*runtime)->Export(&context, request);
  Progress progress("Exporting");
  rt::DataChunk chunk;
  absl::Status written;
  while (written.ok() && reader->Read(&chunk)) {
    written = WriteAll(fd, chunk.data());
    progress.Add(static_cast<int64_t>(chunk.data().size()));
  }
  if (!written.ok()) context.TryCancel();
  grpc::Status status = reader->Finish();
  if (!written.ok() || !status.ok()) {
    if (!temp.empty()) ::unlink(temp.c_str());
    return Fail(written.ok() ? gateway.RuntimeError(status) : written);
  }
  if (!temp.empty()) {
    if (::fsync(fd) != 0 || ::rename(temp.c_str(), output.c_str()) != 0) {
      ::unlink(temp.c_str());
      return Fail(ErrnoStatus(errno, "write " + output));
    }
  }
  progress.Done();
  return 0;
}

// The tar a CopyFrom call streams, as a ByteSource (the first message carries the stat).
class CopySource : public layer::ByteSource {
 public:
  explicit CopySource(grpc::ClientReader<rt::CopyFromResponse>* reader) : reader_(reader) {}
  absl::StatusOr<absl::string_view> Read() override {
    while (reader_->Read(&message_)) {
      if (!message_.data().empty()) return absl::string_view(message_.data());
    }
    return absl::string_view();
  }

 private:
  grpc::ClientReader<rt::CopyFromResponse>* reader_;
  rt::CopyFromResponse message_;
};

int Copy(Globals& globals, const std::string& source, const std::string& destination,
         bool follow_link) {
  const size_t colon = source.find(':');
  if (colon == std::string::npos || colon == 0) {
    if (destination.find(':') != std::string::npos) {
      return Fail("copying into a container is not supported: copy out with "
                  "`strata cp CONTAINER:PATH DEST`, or commit a container that made the file");
    }
    return Fail("the source must be CONTAINER:PATH");
  }
  const std::string container = source.substr(0, colon);
  std::string path = source.substr(colon + 1);
  if (path.empty() || path[0] != '/') path = "/" + path;  // docker: relative to /
  if (destination == "-" && IsTerminal(STDOUT_FILENO)) {
    return Fail("cowardly refusing to write a tar to a terminal: redirect it, or give a path");
  }

  Gateway gateway(globals);
  absl::StatusOr<rt::Runtime::Stub*> runtime = gateway.Runtime();
  if (!runtime.ok()) return Fail(runtime.status());
  grpc::ClientContext context;
  rt::CopyFromRequest request;
  request.set_container(container);
  request.set_path(path);
  request.set_follow_link(follow_link);
  auto reader = (*runtime)->CopyFrom(&context, request);
  rt::CopyFromResponse first;
  if (!reader->Read(&first) || !first.has_stat()) {
    return Fail(gateway.RuntimeError(reader->Finish()));
  }
  const rt::PathStat stat = first.stat();

  if (destination == "-") {
    rt::CopyFromResponse message;
    absl::Status written;
    while (written.ok() && reader->Read(&message)) written = WriteAll(STDOUT_FILENO, message.data());
    if (!written.ok()) context.TryCancel();
    grpc::Status status = reader->Finish();
    if (!written.ok()) return Fail(written);
    return status.ok() ? 0 : Fail(gateway.RuntimeError(status));
  }

  // docker's rules: SRC/. (or "/") copies what the directory holds into DEST; into an existing
  // directory, SRC lands under its own name (merging with what is there); otherwise SRC
  // becomes DEST. An existing destination is never removed.
  auto abandon = [&](const absl::Status& status) {
    context.TryCancel();
    reader->Finish();
    return Fail(status);
  };
  const std::string name = stat.name();
  const bool contents = name == "." || name == "/";
  struct stat target;
  const bool exists = ::stat(destination.c_str(), &target) == 0;
  const bool into_directory = exists && S_ISDIR(target.st_mode);
  if (exists && !into_directory && (contents || S_ISDIR(stat.mode()))) {
    return abandon(absl::FailedPreconditionError(
        absl::StrCat("cannot copy a directory to the file \"", destination, "\"")));
  }
  if (into_directory && !contents) {
    struct stat existing;
    const std::string inside = absl::StrCat(destination, "/", name);
    if (::lstat(inside.c_str(), &existing) == 0 && S_ISDIR(existing.st_mode) !=
                                                        S_ISDIR(stat.mode())) {
      return abandon(absl::FailedPreconditionError(absl::StrCat(
          "cannot overwrite ", S_ISDIR(existing.st_mode) ? "directory" : "non-directory", " \"",
          inside, "\" with ", S_ISDIR(stat.mode()) ? "a directory" : "a non-directory")));
    }
  }
  if (contents && !exists) {
    absl::Status made = MakeDirs(destination);
    if (!made.ok()) return abandon(made);
  }

  CopySource copy_source(reader.get());
  if (contents || into_directory) {
    // Straight into the directory: the archive's paths start with SRC's name (or nothing).
    UniqueFd dir(::open(destination.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir.valid()) return abandon(ErrnoStatus(errno, "open " + destination));
    absl::StatusOr<layer::UnpackStats> unpacked = layer::UnpackLayer(&copy_source, dir.get());
    grpc::Status status = reader->Finish();
    absl::Status result = !status.ok() ? gateway.RuntimeError(status) : unpacked.status();
    return result.ok() ? 0 : Fail(result);
  }
  // A new (or replaced regular) file or directory: unpacked beside it, then renamed into place.
  const std::string parent = Dirname(destination);
  std::string staging = absl::StrCat(parent, "/.strata-cp-XXXXXX");
  if (::mkdtemp(staging.data()) == nullptr) {
    return abandon(ErrnoStatus(errno, "create a directory in " + parent));
  }
  UniqueFd staging_fd(::open(staging.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  absl::StatusOr<layer::UnpackStats> unpacked = layer::UnpackLayer(&copy_source, staging_fd.get());
  grpc::Status status = reader->Finish();
  absl::Status result = !status.ok() ? gateway.RuntimeError(status) : unpacked.status();
  if (result.ok()) {
    const std::string from = absl::StrCat(staging, "/", name);
    if (::rename(from.c_str(), destination.c_str()) != 0) {
      result = ErrnoStatus(errno, "move into " + destination);
    }
  }
  (void)RemoveAll(staging);
  return result.ok() ? 0 : Fail(result);
}

// Streams an upload to layerstore as a ByteSink (the commit happens separately).
class WriterSink : public layer::ByteSink {
 public:
  explicit WriterSink(layerstore::BlobWriter* writer) : writer_(writer) {}
  absl::Status Write(absl::string_view data) override { return writer_->Write(data); }

 private:
  layerstore::BlobWriter* writer_;
};

// Counts what is read from a file for the progress line.
class CountingSource : public layer::ByteSource {
 public:
  CountingSource(layer::ByteSource* source, Progress* progress)
      : source_(source), progress_(progress) {}
  absl::StatusOr<absl::string_view> Read() override {
    absl::StatusOr<absl::string_view> chunk = source_->Read();
    if (chunk.ok()) progress_->Add(static_cast<int64_t>(chunk->size()));
    return chunk;
  }

 private:
  layer::ByteSource* source_;
  Progress* progress_;
};

struct ImportOptions {
  std::vector<std::string> changes;
  std::string message;
};

// Names at the root of an image archive (docker save, podman save, OCI layouts).
bool IsImageArchiveMarker(const std::string& path) {
  absl::StatusOr<std::string> cleaned = layer::CleanPath(path);
  return cleaned.ok() &&
         (*cleaned == "manifest.json" || *cleaned == "index.json" || *cleaned == "oci-layout");
}

int Import(Globals& globals, const ImportOptions& options, const std::string& file,
           const std::string& target) {
  absl::StatusOr<std::string> tag = TargetTag(target);
  if (!tag.ok()) return Fail(tag.status());
  oci::RunConfig run;
  if (absl::Status status = ApplyChanges(options.changes, run); !status.ok()) return Fail(status);
  UniqueFd input;
  int64_t total = 0;
  if (file == "-") {
    if (IsTerminal(STDIN_FILENO)) return Fail("import from a terminal: pipe a tarball into it");
    input.Reset(::dup(STDIN_FILENO));
  } else {
    input.Reset(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
    if (!input.valid()) return Fail(ErrnoStatus(errno, "open " + file));
    struct stat st;
    if (::fstat(input.get(), &st) == 0 && S_ISREG(st.st_mode)) total = st.st_size;
    ::posix_fadvise(input.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
  }

  Gateway gateway(globals);
  absl::StatusOr<layerstore::LayerstoreClient*> layerstore = gateway.Layerstore();
  if (!layerstore.ok()) return Fail(layerstore.status());
  absl::StatusOr<std::unique_ptr<layerstore::BlobWriter>> writer = (*layerstore)->OpenWriter(
      absl::StrCat("import-", ::getpid(), "-", absl::ToUnixNanos(absl::Now())));
  if (!writer.ok()) return Fail(writer.status());

  // file -> decompress (any compression) -> diff id -> zstd -> digest -> layerstore, in one
  // pass; the tar entries are parsed on the way to refuse what is not a file system.
  Progress progress("Importing", total);
  layer::FdSource file_source(input.get());
  CountingSource source(&file_source, &progress);
  WriterSink upload(writer->get());
  layer::HashingSink compressed(&upload);
  absl::StatusOr<std::unique_ptr<layer::ByteSink>> compressor =
      layer::NewCompressingSink(layer::Compression::kZstd, &compressed, -1, 2);
  if (!compressor.ok()) return Fail(compressor.status());
  layer::LayerReader reader(&source, compressor->get());
  auto abort = [&](const absl::Status& status) {
    (*writer)->Abort();
    return Fail(status);
  };
  for (;;) {
    absl::StatusOr<archive_entry*> entry = reader.NextEntry();
    if (!entry.ok()) {
      return abort(Annotate(entry.status(), file == "-" ? "standard input" : file));
    }
    if (*entry == nullptr) break;
    const char* name = layer::EntryPath(*entry);
    if (name != nullptr && IsImageArchiveMarker(name)) {
      return abort(absl::InvalidArgumentError(absl::StrCat(
          file, " is an image archive (it has ", name,
          " at its root, as `docker save`, `podman save` and OCI layouts write), not a file "
          "system tarball: load it with `podman load -i ", file,
          "` or `skopeo copy`; strata import takes what `strata export` or `docker export` "
          "write")));
    }
  }
  absl::Status finished = reader.Finish();
  if (finished.ok()) finished = (*compressor)->Close();
  if (!finished.ok()) return abort(finished);
  const Digest digest = compressed.Finish();
  const int64_t size = static_cast<int64_t>(compressed.size());
  absl::StatusOr<layerstore::CommitResult> stored = (*writer)->Commit();
  if (!stored.ok()) return Fail(stored.status());
  if (stored->digest != digest) {
    return Fail(absl::StrCat("layerstore stored ", stored->digest.str(), ", expected ",
                             digest.str()));
  }
  progress.Done();

  oci::ImageConfig config;
  const std::string created = oci::FormatRfc3339(absl::Now());
  config.set_created(created);
  config.set_run_config(run);
  const std::string comment =
      options.message.empty() ? absl::StrCat("Imported from ", file) : options.message;
  config.AddLayer(reader.diff_id(), {created, "", "", comment, false});
  types::v1::LayerDescriptor layer;
  layer.set_digest(digest.str());
  layer.set_diff_id(reader.diff_id().str());
  layer.set_media_type(*layer::LayerMediaType(layer::Compression::kZstd));
  layer.set_size(size);
  layer.set_uncompressed_size(static_cast<int64_t>(reader.uncompressed_size()));
  absl::StatusOr<ig::Image> image = RegisterImage(gateway, config, {layer}, "", *tag);
  if (!image.ok()) return Fail(image.status());
  std::printf("%s\n", image->id().c_str());
  return 0;
}

}  // namespace

void RegisterTransferCommands(CLI::App& app, Globals& globals, int* exit_code) {
  {
    CLI::App* command = app.add_subcommand("commit", "Create a new image from a container's changes");
    auto options = std::make_shared<CommitOptions>();
    auto container = std::make_shared<std::string>();
    auto target = std::make_shared<std::string>();
    command->add_option("-a,--author", options->author, "Author (e.g. \"Jane <jane@example.com>\")");
    command->add_option("-m,--message", options->message, "Commit message");
    command->add_option("-c,--change", options->changes,
                        "Apply a Dockerfile instruction: CMD, ENTRYPOINT, ENV, LABEL, WORKDIR, "
                        "USER, EXPOSE, STOPSIGNAL, VOLUME")
        ->allow_extra_args(false);
    command->add_flag("-p,--pause", options->pause,
                      "Pause the container during the commit (default; -p=false commits live)");
    command->add_flag("--pause-off", options->pause_off)->group("");
    command->add_option("--compression", options->compression,
                        "Layer compression: zstd (default), gzip or none")
        ->check(CLI::IsMember({"zstd", "gzip", "none"}));
    command->add_option("container", *container, "CONTAINER")->required();
    command->add_option("repository", *target, "[REPOSITORY[:TAG]]");
    command->callback([=, &globals] { *exit_code = Commit(globals, *options, *container, *target); });
  }
  {
    CLI::App* command = app.add_subcommand("export", "Export a container's filesystem as a tar archive");
    auto output = std::make_shared<std::string>();
    auto container = std::make_shared<std::string>();
    command->add_option("-o,--output", *output, "Write to a file, instead of STDOUT");
    command->add_option("container", *container, "CONTAINER")->required();
    command->callback([=, &globals] { *exit_code = Export(globals, *container, *output); });
  }
  {
    CLI::App* command = app.add_subcommand(
        "cp", "Copy files/folders from a container to the local filesystem (DEST \"-\": a tar "
              "on STDOUT)");
    auto follow = std::make_shared<bool>(false);
    auto source = std::make_shared<std::string>();
    auto destination = std::make_shared<std::string>();
    command->add_flag("-L,--follow-link", *follow, "Follow a symbolic link in SRC_PATH");
    command->add_option("source", *source, "CONTAINER:SRC_PATH")->required();
    command->add_option("destination", *destination, "DEST_PATH|-")->required();
    command->callback([=, &globals] {
      *exit_code = Copy(globals, *source, *destination, *follow);
    });
  }
  {
    CLI::App* command = app.add_subcommand(
        "import", "Import the contents from a tarball (none/gzip/bzip2/xz/zstd) to create an image");
    auto options = std::make_shared<ImportOptions>();
    auto file = std::make_shared<std::string>();
    auto target = std::make_shared<std::string>();
    command->add_option("-c,--change", options->changes, "Apply a Dockerfile instruction")
        ->allow_extra_args(false);
    command->add_option("-m,--message", options->message, "Commit message for the image");
    command->add_option("file", *file, "FILE|-")->required();
    command->add_option("repository", *target, "[REPOSITORY[:TAG]]");
    command->callback([=, &globals] { *exit_code = Import(globals, *options, *file, *target); });
  }
}

}  // namespace strata::cli
