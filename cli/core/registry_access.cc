#include "cli/core/registry_access.h"

#include "absl/strings/str_cat.h"
#include "lib/base/errors.h"

namespace strata::gateway::internal {

absl::StatusOr<std::unique_ptr<distribution::RegistryClient>> NewRegistryClient(
    const std::string& domain, const v1::RegistryAccess& access) {
  // One connection and TLS session cache for every registry call of this process.
  static http::HttpSession* const session = new http::HttpSession();
  std::optional<distribution::Credentials> credentials;
  if (!access.credentials().username().empty() || !access.credentials().password().empty()) {
    credentials =
        distribution::Credentials{access.credentials().username(), access.credentials().password()};
  } else {
    ASSIGN_OR_RETURN(credentials, distribution::LookupCredentials(domain));
  }
  distribution::RegistryOptions options;
  if (access.has_tls_verify()) options.hosts.tls_verify = access.tls_verify();
  options.hosts.insecure_registries = {access.insecure_registries().begin(),
                                       access.insecure_registries().end()};
  return std::make_unique<distribution::RegistryClient>(domain, options, credentials, session);
}

absl::Status BytePipe::Write(absl::string_view data) {
  absl::MutexLock lock(&mutex_);
  auto room = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
    return chunks_.size() < 8 || !failed_.ok() || draining_;
  };
  mutex_.Await(absl::Condition(&room));
  if (!failed_.ok()) return failed_;
  if (draining_) return absl::OkStatus();
  chunks_.emplace_back(data.data(), data.size());
  return absl::OkStatus();
}

absl::Status BytePipe::Close() {
  absl::MutexLock lock(&mutex_);
  closed_ = true;
  return failed_;
}

absl::StatusOr<absl::string_view> BytePipe::Read() {
  absl::MutexLock lock(&mutex_);
  auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
    return !chunks_.empty() || closed_ || !failed_.ok();
  };
  mutex_.Await(absl::Condition(&ready));
  if (!failed_.ok()) return failed_;
  if (chunks_.empty()) return absl::string_view();
  current_ = std::move(chunks_.front());
  chunks_.pop_front();
  return absl::string_view(current_);
}

void BytePipe::Fail(absl::Status status) {
  absl::MutexLock lock(&mutex_);
  if (failed_.ok()) failed_ = std::move(status);
}

void BytePipe::Drain() {
  absl::MutexLock lock(&mutex_);
  draining_ = true;
  chunks_.clear();
}

std::string ShortDigest(const std::string& digest) {
  absl::string_view hex = digest;
  if (hex.size() > 7 && hex.substr(0, 7) == "sha256:") hex.remove_prefix(7);
  return std::string(hex.substr(0, 12));
}

}  // namespace strata::gateway::internal
