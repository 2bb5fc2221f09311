// Layerstore replicas over one bucket, as real processes: strata-layerstore --backend s3
// against OpenStack Swift (s3api) on loopback. A replica killed in the middle of an upload:
// another replica resumes it once the dead one's lease expires, or its janitor removes it;
// wrong credentials stop the service at start with a clear message.

#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/base/fs.h"
#include "lib/rpc/client.h"
#include "lib/testing/service_process.h"
#include "lib/testing/subprocess.h"
#include "lib/testing/swift_server.h"
#include "lib/testing/temp_dir.h"
#include "services/layerstore/client/layerstore_client.h"
#include "services/layerstore/core/test_blobs.h"

namespace strata {
namespace {

using ::strata::layerstore::RandomBytes;
using ::strata::testing::SwiftServer;
using ::testing::HasSubstr;

constexpr int64_t kMiB = 1 << 20;

class ReplicasTest : public ::testing::Test {
 protected:
  void SetUp() override {
    credentials_ = dir_.path() + "/credentials";
    ASSERT_TRUE(WriteFileAtomically(
                    credentials_,
                    absl::StrCat("[default]\naws_access_key_id = ", SwiftServer::kAccessKey,
                                 "\naws_secret_access_key = ", SwiftServer::kSecretKey, "\n"),
                    0600)
                    .ok());
  }

  absl::StatusOr<std::unique_ptr<testing::ServiceProcess>> StartReplica(
      std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {
        "--backend=s3",
        "--s3-endpoint=" + SwiftServer::Shared().endpoint(),
        absl::StrCat("--s3-bucket=", SwiftServer::kBucket),
        "--s3-prefix=" + prefix_,
        "--s3-credentials-file=" + credentials_,
        "--s3-part-size=1048576",
        "--s3-lease-ttl=2s",
    };
    args.insert(args.end(), extra.begin(), extra.end());
    return testing::ServiceProcess::Start(
        testing::RunfilePath("services/layerstore/strata-layerstore"), args);
  }

  static std::unique_ptr<layerstore::LayerstoreClient> Connect(const std::string& address) {
    auto channel = rpc::Dial({.address = address});
    EXPECT_TRUE(channel.ok()) << channel.status();
    return std::make_unique<layerstore::LayerstoreClient>(*channel);
  }

  // Writes data[0, upto) through a replica, waits until it has stored `stored` bytes of it,
  // then kills the replica (SIGKILL: no lease given back, no tail stored).
  void WriteThenKill(const std::string& ref, const std::string& data, int64_t upto,
                     int64_t stored) {
    auto a = StartReplica();
    ASSERT_TRUE(a.ok()) << a.status();
    auto client = Connect((*a)->address());
    auto writer = client->OpenWriter(ref, Digest::Of(data));
    ASSERT_TRUE(writer.ok()) << writer.status();
    for (int64_t at = 0; at < upto; at += 256 << 10) {
      ASSERT_TRUE((*writer)->Write(absl::string_view(data).substr(at, 256 << 10)).ok());
    }
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    int64_t offset = 0;
    while (absl::Now() < deadline) {
      auto status = client->WriteStatus(ref);
      if (status.ok() && status->offset >= stored) {
        offset = status->offset;
        break;
      }
      absl::SleepFor(absl::Milliseconds(50));
    }
    ASSERT_GE(offset, stored);
    (*a)->Stop(/*kill_hard=*/true);
  }

  testing::TempDir dir_{"replicas"};
  std::string credentials_;
  const std::string prefix_ =
      absl::StrCat("replicas-", ::getpid(), "-", ::testing::UnitTest::GetInstance()->random_seed(),
                   "-", absl::ToUnixNanos(absl::Now()), "/");
};

TEST_F(ReplicasTest, UploadOfAKilledReplicaIsResumedByAnother) {
  const std::string data = RandomBytes(5 * kMiB + 77, 60);
  WriteThenKill("killed", data, 3 * kMiB + 512 * 1024, 3 * kMiB);

  auto b = StartReplica();
  ASSERT_TRUE(b.ok()) << b.status();
  auto client = Connect((*b)->address());
  auto status = client->WriteStatus("killed");
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_GE(status->offset, 3 * kMiB);
  EXPECT_TRUE(absl::IsNotFound(client->Stat(Digest::Of(data)).status()));
  // The dead replica's lease holds for up to 2 s: ABORTED until then.
  absl::StatusOr<layerstore::CommitResult> result = absl::AbortedError("not tried");
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  int aborted = 0;
  while (absl::IsAborted(result.status()) && absl::Now() < deadline) {
    auto writer = client->OpenWriter("killed", Digest::Of(data));
    ASSERT_TRUE(writer.ok()) << writer.status();
    const int64_t from = (*writer)->offset();
    absl::Status written = (*writer)->Write(absl::string_view(data).substr(from));
    result = written.ok() ? (*writer)->Commit() : absl::StatusOr<layerstore::CommitResult>(written);
    if (absl::IsAborted(result.status())) {
      ++aborted;
      (*writer)->Abort();
      absl::SleepFor(absl::Milliseconds(300));
    } else {
      EXPECT_GE(from, 3 * kMiB) << "resumed from the parts the killed replica stored";
    }
  }
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->digest, Digest::Of(data));
  auto read = client->ReadAll(Digest::Of(data));
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_TRUE(*read == data);
  std::cerr << "ABORTED " << aborted << " times while the dead replica's lease held\n";
}

TEST_F(ReplicasTest, UploadOfAKilledReplicaIsCleanedUpByAnother) {
  const std::string data = RandomBytes(2 * kMiB + 5, 61);
  WriteThenKill("abandoned", data, 2 * kMiB, 2 * kMiB);
  auto b = StartReplica({"--ingest-max-age=1s"});
  ASSERT_TRUE(b.ok()) << b.status();
  auto client = Connect((*b)->address());
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  absl::Status status;
  do {
    absl::SleepFor(absl::Milliseconds(300));
    status = client->WriteStatus("abandoned").status();
  } while (status.ok() && absl::Now() < deadline);
  EXPECT_TRUE(absl::IsNotFound(status)) << status;
}

TEST_F(ReplicasTest, WrongCredentialsStopTheServiceAtStart) {
  ASSERT_TRUE(WriteFileAtomically(credentials_,
                                  "[default]\naws_access_key_id = test:tester\n"
                                  "aws_secret_access_key = wrong-secret\n",
                                  0600)
                  .ok());
  auto replica = StartReplica();
  ASSERT_FALSE(replica.ok());
  EXPECT_THAT(std::string(replica.status().message()), HasSubstr("check the S3 access key"));
  EXPECT_THAT(std::string(replica.status().message()), HasSubstr(SwiftServer::kBucket));
  EXPECT_THAT(std::string(replica.status().message()), ::testing::Not(HasSubstr("wrong-secret")));
}

}  // namespace
}  // namespace strata
