#ifndef STRATA_CLI_CORE_REGISTRY_ACCESS_H_
#define STRATA_CLI_CORE_REGISTRY_ACCESS_H_

// What pull, push and login share: a RegistryClient for a domain made from a request's
// RegistryAccess (its credentials, else the docker config.json of this process), a layerstore
// blob as a ByteSource, and a pipe between two threads of one streaming pass.

#include <deque>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "cli/core/services.h"
#include "lib/distribution/registry_client.h"
#include "lib/layer/stream.h"
#include "strata/gateway/v1/gateway.pb.h"

namespace strata::gateway::internal {

// Errors: those of reading the credential files.
absl::StatusOr<std::unique_ptr<distribution::RegistryClient>> NewRegistryClient(
    const std::string& domain, const v1::RegistryAccess& access);

// Reads a layerstore blob as a ByteSource.
class BlobSource : public layer::ByteSource {
 public:
  explicit BlobSource(std::unique_ptr<layerstore::BlobReader> reader)
      : reader_(std::move(reader)) {}
  absl::StatusOr<absl::string_view> Read() override { return reader_->Next(); }

 private:
  std::unique_ptr<layerstore::BlobReader> reader_;
};

// Writes into a layerstore upload.
class BlobSink : public layer::ByteSink {
 public:
  explicit BlobSink(layerstore::BlobWriter* writer) : writer_(writer) {}
  absl::Status Write(absl::string_view data) override { return writer_->Write(data); }

 private:
  layerstore::BlobWriter* writer_;
};

// A bounded pipe: one thread writes (ByteSink), another reads (ByteSource). Either side's
// failure ends the other with that status.
class BytePipe : public layer::ByteSink, public layer::ByteSource {
 public:
  absl::Status Write(absl::string_view data) override;
  absl::Status Close() override;
  absl::StatusOr<absl::string_view> Read() override;
  // Ends the pipe for both sides with status.
  void Fail(absl::Status status);
  // The reader is done: later writes are dropped.
  void Drain();

 private:
  absl::Mutex mutex_;
  std::deque<std::string> chunks_ ABSL_GUARDED_BY(mutex_);
  bool closed_ ABSL_GUARDED_BY(mutex_) = false;
  bool draining_ ABSL_GUARDED_BY(mutex_) = false;
  absl::Status failed_ ABSL_GUARDED_BY(mutex_);
  std::string current_;  // The reader's chunk.
};

// "sha256:abcdef012345..." -> "abcdef012345", as docker names layers in progress lines.
std::string ShortDigest(const std::string& digest);

}  // namespace strata::gateway::internal

#endif  // STRATA_CLI_CORE_REGISTRY_ACCESS_H_
