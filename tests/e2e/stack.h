#ifndef STRATA_TESTS_E2E_STACK_H_
#define STRATA_TESTS_E2E_STACK_H_

// The whole Strata stack for an end-to-end test: a private PostgreSQL, the three service
// binaries and the gateway on ports of their own, and the strata CLI pointed at them through
// its environment variables, exactly as a user's shell would be.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "lib/base/subprocess.h"
#include "lib/testing/postgres.h"
#include "lib/testing/service_process.h"
#include "lib/testing/temp_dir.h"

namespace strata::e2e {

class Stack {
 public:
  // max_layers: the runtime's --max-layers.
  static absl::StatusOr<std::unique_ptr<Stack>> Start(int max_layers = 200);
  ~Stack();

  // Runs `strata args...` with stdin_data as its input; stdout and stderr apart.
  CommandResult Strata(const std::vector<std::string>& args, const std::string& stdin_data = "");
  // The environment that points the CLI at this stack ("STRATA_RUNTIME=..." etc.).
  std::vector<std::string> Env() const;
  std::string StrataBinary() const;
  const std::string& dir() const { return dir_.path(); }
  const std::string& gateway_address() const { return gateway_->address(); }
  const std::string& imagegraph_address() const { return imagegraph_->address(); }
  const std::string& layerstore_address() const { return layerstore_->address(); }
  // The stack's PostgreSQL, for tests that stop and restart it.
  strata::testing::PostgresServer& postgres() { return *postgres_; }

  // A busybox root file system tarball (Debian's busybox-static), compressed with one of
  // "none", "gzip", "bzip2", "xz", "zstd". Its /etc holds keep, del and passwd.
  absl::StatusOr<std::string> BusyboxTarball(const std::string& compression);

 private:
  Stack() = default;

  strata::testing::TempDir dir_{"e2e"};
  std::string run_dir_;
  std::unique_ptr<strata::testing::PostgresServer> postgres_;
  std::unique_ptr<strata::testing::ServiceProcess> layerstore_;
  std::unique_ptr<strata::testing::ServiceProcess> imagegraph_;
  std::unique_ptr<strata::testing::ServiceProcess> runtime_;
  std::unique_ptr<strata::testing::ServiceProcess> gateway_;
};

// A suite sharing one Stack in which the busybox tarball (zstd) is imported as "base".
class BaseImageSuite : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto stack = Stack::Start();
    ASSERT_TRUE(stack.ok()) << stack.status();
    stack_ = stack->release();
    auto tarball = stack_->BusyboxTarball("zstd");
    ASSERT_TRUE(tarball.ok()) << tarball.status();
    ASSERT_EQ(stack_->Strata({"import", *tarball, "base"}).exit_code, 0);
  }
  static void TearDownTestSuite() {
    delete stack_;
    stack_ = nullptr;
  }

  static inline Stack* stack_ = nullptr;
};

}  // namespace strata::e2e

#endif  // STRATA_TESTS_E2E_STACK_H_
