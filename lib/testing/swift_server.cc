#include "lib/testing/swift_server.h"

#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "lib/testing/subprocess.h"

namespace strata::testing {

absl::StatusOr<std::unique_ptr<SwiftServer>> SwiftServer::Start(
    const std::vector<std::string>& buckets) {
  std::vector<std::string> argv = {"/bin/bash", RunfilePath("tests/objectstore/swift-server.sh"),
                                   "--min-part-size", absl::StrCat(1 << 20)};
  for (const std::string& bucket : buckets) {
    argv.push_back("--bucket");
    argv.push_back(bucket);
  }
  auto server = std::unique_ptr<SwiftServer>(new SwiftServer());
  // Swift's four Python servers take a while to start on a busy machine.
  absl::StatusOr<std::unique_ptr<ServiceProcess>> process =
      ServiceProcess::StartCommand(argv, absl::Seconds(240));
  if (!process.ok()) return process.status();
  server->process_ = std::move(*process);
  server->endpoint_ = absl::StrCat("http://", server->process_->address());
  return server;
}

namespace {
SwiftServer* shared_server = nullptr;
}  // namespace

SwiftServer& SwiftServer::Shared() {
  static std::once_flag once;
  std::call_once(once, [] {
    absl::StatusOr<std::unique_ptr<SwiftServer>> server = Start({kBucket});
    if (!server.ok()) {
      std::fprintf(stderr, "the Swift server did not start: %s\n",
                   std::string(server.status().message()).c_str());
      std::abort();
    }
    shared_server = server->release();
    // Stopped at exit, so no Swift outlives the test binary.
    std::atexit([] { delete shared_server; });
  });
  return *shared_server;
}

s3::S3Config SwiftServer::Config(const std::string& bucket) const {
  s3::S3Config config;
  config.endpoint = endpoint_;
  config.bucket = bucket;
  config.credentials = {kAccessKey, kSecretKey};
  return config;
}

}  // namespace strata::testing
