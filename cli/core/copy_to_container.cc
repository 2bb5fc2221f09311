// Gateway: `docker cp SRC|- CONTAINER:PATH`. The local source (a file, a directory, or with
// follow_link what a symlink points at) is written as a tar while it streams to the
// runtime's CopyTo, which places it with docker's rules inside the container.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "cli/core/gateway.h"
#include "lib/base/errors.h"
#include "lib/base/fs.h"
#include "lib/layer/layer_writer.h"
#include "lib/rpc/limits.h"

namespace strata::gateway {
namespace {

// Writes bytes to the CopyTo call in chunks.
class CopyToSink : public layer::ByteSink {
 public:
  explicit CopyToSink(grpc::ClientWriter<rt::CopyToRequest>* writer) : writer_(writer) {}
  absl::Status Write(absl::string_view data) override {
    while (!data.empty()) {
      const size_t n = std::min(rpc::kChunkSize - pending_.size(), data.size());
      pending_.append(data.data(), n);
      data.remove_prefix(n);
      if (pending_.size() == rpc::kChunkSize) RETURN_IF_ERROR(Flush());
    }
    return absl::OkStatus();
  }
  absl::Status Flush() {
    if (pending_.empty()) return absl::OkStatus();
    rt::CopyToRequest request;
    request.set_data(std::move(pending_));
    pending_.clear();
    // The runtime ended the call (it refused the copy): its status says why.
    if (!writer_->Write(request)) return absl::AbortedError("the runtime ended the copy");
    return absl::OkStatus();
  }
  absl::Status Close() override { return Flush(); }

 private:
  grpc::ClientWriter<rt::CopyToRequest>* writer_;
  std::string pending_;
};

}  // namespace

absl::Status Gateway::CopyTo(const rt::CopyToOptions& options,
                             const std::function<absl::Status(layer::ByteSink*)>& write_tar) {
  ASSIGN_OR_RETURN(rt::Runtime::Stub * runtime, services_.runtime());
  grpc::ClientContext context;
  rt::CopyToResponse response;
  std::unique_ptr<grpc::ClientWriter<rt::CopyToRequest>> writer =
      runtime->CopyTo(&context, &response);
  rt::CopyToRequest first;
  *first.mutable_options() = options;
  absl::Status written;
  if (writer->Write(first)) {
    CopyToSink sink(writer.get());
    written = write_tar(&sink);
    if (written.ok()) written = sink.Close();
  }
  // A write refused by the runtime is explained by the call's status; our own errors
  // (reading the local files) cancel the call.
  if (!written.ok() && !absl::IsAborted(written)) context.TryCancel();
  writer->WritesDone();
  grpc::Status status = writer->Finish();
  if (!written.ok() && !absl::IsAborted(written)) return written;
  if (!status.ok()) return services_.RuntimeError(status, options.container());
  return written;
}

absl::Status Gateway::CopyFromLocal(rt::CopyToOptions options, const std::string& source,
                                    bool follow_link) {
  if (source.empty()) return absl::InvalidArgumentError("empty source path");
  // docker: "SRC/." copies what the directory holds; a trailing "/" asserts a directory.
  const bool contents_only = absl::EndsWith(source, "/.") || source == ".";
  std::string path = source;
  while (path.size() > 1 && (absl::EndsWith(path, "/.") || absl::EndsWith(path, "/"))) {
    path.resize(absl::EndsWith(path, "/.") ? path.size() - 2 : path.size() - 1);
  }
  if (path.empty()) path = "/";
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return ErrnoStatus(errno, "lstat " + source);
  // With -L, a symlink is copied as what it points at, under the link's name.
  std::string real = path;
  if (follow_link && S_ISLNK(st.st_mode)) {
    char resolved[PATH_MAX];
    if (::realpath(path.c_str(), resolved) == nullptr) {
      return ErrnoStatus(errno, "follow the symbolic link " + source);
    }
    real = resolved;
    if (::lstat(real.c_str(), &st) != 0) return ErrnoStatus(errno, "lstat " + real);
  }
  if (absl::EndsWith(source, "/") && !S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(source, ": not a directory"));
  }
  if (contents_only && !S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(source, ": not a directory"));
  }
  const std::string name = path == "/" ? "." : Basename(path);
  options.set_source_is_dir(S_ISDIR(st.st_mode));
  if (contents_only || path == "/") {
    options.set_source_name(".");
    UniqueFd dir(::open(real.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir.valid()) return ErrnoStatus(errno, "open " + source);
    return CopyTo(options, [&](layer::ByteSink* sink) {
      return layer::WriteTreeAsTar(dir.get(), sink).status();
    });
  }
  options.set_source_name(name);
  const std::string parent = Dirname(real);
  UniqueFd parent_fd(::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!parent_fd.valid()) return ErrnoStatus(errno, "open " + parent);
  const std::string base = Basename(real);
  return CopyTo(options, [&](layer::ByteSink* sink) {
    return layer::WriteEntryAsTar(parent_fd.get(), base, name, sink).status();
  });
}

}  // namespace strata::gateway
