#ifndef STRATA_LIB_TESTING_SWIFT_SERVER_H_
#define STRATA_LIB_TESTING_SWIFT_SERVER_H_

// A real S3-compatible object store for tests: OpenStack Swift with s3api and tempauth, run by
// tests/objectstore/swift-server.sh on 127.0.0.1 in the test's temporary directory. Swift
// takes many seconds to start, so a test binary shares one (Shared()) and gives each test its
// own key prefix or bucket. Tests using it need the script in their data:
// "//tests/objectstore:swift_server".

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/s3/s3_client.h"
#include "lib/testing/service_process.h"

namespace strata::testing {

class SwiftServer {
 public:
  static constexpr char kAccessKey[] = "test:tester";
  static constexpr char kSecretKey[] = "testing";
  // Buckets the shared server has.
  static constexpr char kBucket[] = "strata-test";

  // Starts a server with these buckets; multipart parts may be as small as 1 MiB.
  // Errors: INTERNAL (it did not start; the message holds its output).
  static absl::StatusOr<std::unique_ptr<SwiftServer>> Start(
      const std::vector<std::string>& buckets);
  // The server of this test binary, started on first use (a failure to start aborts the test
  // binary with the reason), stopped at exit.
  static SwiftServer& Shared();

  // "http://127.0.0.1:PORT"
  const std::string& endpoint() const { return endpoint_; }
  // A client configuration for a bucket, with the server's credentials.
  s3::S3Config Config(const std::string& bucket = kBucket) const;
  ServiceProcess& process() { return *process_; }

 private:
  std::unique_ptr<ServiceProcess> process_;
  std::string endpoint_;
};

}  // namespace strata::testing

#endif  // STRATA_LIB_TESTING_SWIFT_SERVER_H_
