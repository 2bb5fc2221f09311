// Leases and blob garbage collection against the real stack: GC while two clients commit and
// import in a loop never costs a recorded image a blob; a lease whose writer went away
// protects its blob until it expires; GC after rmi frees exactly what `system df` called
// reclaimable; and the prune commands print docker's words.

#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "cli/core/gateway.h"
#include "gtest/gtest.h"
#include "lib/rpc/client.h"
#include "services/layerstore/client/layerstore_client.h"
#include "tests/e2e/stack.h"

namespace strata::e2e {
namespace {

namespace gw = ::strata::gateway::v1;

class GcTest : public BaseImageSuite {
 protected:
  static gateway::Endpoints Endpoints() {
    return gateway::Endpoints{.layerstore = stack_->layerstore_address(),
                              .imagegraph = stack_->imagegraph_address(),
                              .runtime = ""};
  }
  static std::unique_ptr<layerstore::LayerstoreClient> Layerstore() {
    auto channel = rpc::Dial({.address = stack_->layerstore_address()});
    EXPECT_TRUE(channel.ok()) << channel.status();
    return std::make_unique<layerstore::LayerstoreClient>(*channel);
  }
  // A one-file tarball whose content no other test makes.
  static std::string UniqueTarball(const std::string& name) {
    const std::string dir = absl::StrCat(stack_->dir(), "/tar-", name);
    const std::string path = dir + ".tar";
    RunCommandOk({"/bin/sh", "-c",
                  absl::StrCat("mkdir -p ", dir, " && head -c 20000 /dev/urandom > ", dir,
                               "/data && tar -C ", dir, " -cf ", path, " .")})
        .IgnoreError();
    return path;
  }
  // Every layer blob of every image recorded is still in layerstore.
  static void ExpectNoImageLostABlob() {
    auto layerstore = Layerstore();
    gateway::Gateway gateway(stack_endpoints());
    imagegraph::v1::ListImagesRequest every;
    every.set_all(true);
    auto images = gateway.ListAllImages(every);
    ASSERT_TRUE(images.ok()) << images.status();
    for (const auto& image : *images) {
      for (const auto& layer : image.layers()) {
        auto digest = Digest::Parse(layer.digest());
        ASSERT_TRUE(digest.ok());
        EXPECT_TRUE(layerstore->Stat(*digest).ok())
            << "image " << image.id() << " lost its layer blob " << layer.digest();
      }
    }
  }
  static gateway::Endpoints stack_endpoints() {
    gateway::Endpoints endpoints = Endpoints();
    for (const std::string& variable : stack_->Env()) {
      if (absl::StartsWith(variable, "STRATA_RUNTIME=")) {
        endpoints.runtime = variable.substr(sizeof("STRATA_RUNTIME=") - 1);
      }
    }
    return endpoints;
  }
};

TEST_F(GcTest, ConcurrentCommitsAndImportsKeepEveryRecordedBlob) {
  std::atomic<bool> stop{false};
  std::atomic<int> commits{0}, imports{0}, collections{0}, failures{0};
  std::thread committer([&] {
    for (int i = 0; !stop; ++i) {
      const std::string name = absl::StrCat("gc-commit-", i);
      if (stack_->Strata({"run", "--name", name, "base", "sh", "-c",
                          absl::StrCat("head -c 30000 /dev/urandom > /f", i)})
              .exit_code != 0) {
        ++failures;
        continue;
      }
      CommandResult committed = stack_->Strata({"commit", name, absl::StrCat("gc-c:", i % 3)});
      if (committed.exit_code != 0) {
        ADD_FAILURE() << committed.error_output;
        ++failures;
      } else {
        ++commits;
      }
      stack_->Strata({"rm", name});
    }
  });
  std::thread importer([&] {
    for (int i = 0; !stop; ++i) {
      // Tags reused: each import leaves the previous image dangling, garbage for the GC.
      CommandResult imported = stack_->Strata(
          {"import", UniqueTarball(absl::StrCat("imp-", i)), absl::StrCat("gc-i:", i % 2)});
      if (imported.exit_code != 0) {
        ADD_FAILURE() << imported.error_output;
        ++failures;
      } else {
        ++imports;
      }
    }
  });
  std::thread collector([&] {
    gateway::Gateway gateway(stack_endpoints());
    while (!stop) {
      gw::PruneImagesRequest request;  // dangling images, then GC
      auto pruned = gateway.PruneImages(request);
      if (!pruned.ok()) {
        ADD_FAILURE() << pruned.status();
      } else {
        ++collections;
      }
      absl::SleepFor(absl::Milliseconds(100));
    }
  });
  absl::SleepFor(absl::Seconds(25));
  stop = true;
  committer.join();
  importer.join();
  collector.join();
  EXPECT_EQ(failures, 0);
  EXPECT_GT(commits, 2);
  EXPECT_GT(imports, 2);
  EXPECT_GT(collections, 5);
  ExpectNoImageLostABlob();
  // The images read back whole: their blobs are there end to end.
  CommandResult saved = stack_->Strata(
      {"save", "-o", stack_->dir() + "/gc-saved.tar", "gc-i:0", "gc-i:1", "gc-c:0", "gc-c:1"});
  EXPECT_EQ(saved.exit_code, 0) << saved.error_output;
}

// A writer that took a lease, wrote, and went away without releasing (killed): its blob stays
// until the lease expires, then the next collection takes it.
TEST_F(GcTest, LeaseOfAVanishedWriterExpires) {
  auto layerstore = Layerstore();
  auto lease = layerstore->CreateLease(absl::Seconds(5));
  ASSERT_TRUE(lease.ok()) << lease.status();
  auto stored = layerstore->Put("vanished-writer", "bytes of a writer that died", {}, lease->id);
  ASSERT_TRUE(stored.ok()) << stored.status();
  auto leases = layerstore->ListLeases();
  ASSERT_TRUE(leases.ok());
  bool named = false;
  for (const auto& live : *leases) {
    if (live.id == lease->id) {
      named = live.digests.size() == 1 && live.digests[0] == stored->digest.str();
    }
  }
  EXPECT_TRUE(named);

  // Past the collector's --gc-min-age (2 s): only the lease keeps the blob now.
  absl::SleepFor(absl::Milliseconds(2500));
  auto first = layerstore->CollectGarbage();
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_GE(first->kept_leased, 1);
  EXPECT_TRUE(layerstore->Stat(stored->digest).ok());
  absl::SleepFor(absl::Milliseconds(3000));
  auto second = layerstore->CollectGarbage();
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_FALSE(layerstore->Stat(stored->digest).ok());
  // And a write under the expired lease is refused, so the writer cannot record a blob the
  // collector may have taken.
  auto late = layerstore->Put("late-writer", "late bytes", {}, lease->id);
  EXPECT_TRUE(absl::IsFailedPrecondition(late.status())) << late.status();
}

TEST_F(GcTest, RmiThenGcFreesWhatDfCalledReclaimable) {
  gateway::Gateway gateway(stack_endpoints());
  // base stays in use by a container; every other image of earlier tests goes, and what they
  // left in layerstore is collected: a clean start.
  ASSERT_EQ(stack_->Strata({"create", "--name", "gc-keeper", "base", "true"}).exit_code, 0);
  absl::SleepFor(absl::Milliseconds(2500));  // what earlier tests wrote is past --gc-min-age
  CommandResult cleaned = stack_->Strata({"image", "prune", "-a", "-f"});
  ASSERT_EQ(cleaned.exit_code, 0) << cleaned.error_output;
  ASSERT_EQ(stack_->Strata({"run", "--name", "gc-src", "base", "sh", "-c",
                            "head -c 100000 /dev/urandom > /big"})
                .exit_code,
            0);
  ASSERT_EQ(stack_->Strata({"commit", "gc-src", "gc-unused"}).exit_code, 0);
  ASSERT_EQ(stack_->Strata({"rm", "gc-src"}).exit_code, 0);
  // Past the layerstore's --gc-min-age (2 s): the new blob is collectable once unreferenced.
  absl::SleepFor(absl::Milliseconds(2500));

  gw::DiskUsageRequest request;
  auto usage = gateway.DiskUsage(request);
  ASSERT_TRUE(usage.ok()) << usage.status();
  EXPECT_EQ(usage->images_total(), 2);
  EXPECT_EQ(usage->images_active(), 1);
  EXPECT_GT(usage->images_reclaimable(), 100000 / 2);  // the random file, compressed
  EXPECT_EQ(usage->layerstore_unreferenced(), 0);
  CommandResult df = stack_->Strata({"system", "df"});
  ASSERT_EQ(df.exit_code, 0) << df.error_output;
  EXPECT_TRUE(absl::StartsWith(df.output, "TYPE            TOTAL     ACTIVE    SIZE      "
                                          "RECLAIMABLE\nImages          2         1         "))
      << df.output;
  EXPECT_NE(df.output.find("Local Volumes   0         0         0B        0B\n"),
            std::string::npos)
      << df.output;

  ASSERT_EQ(stack_->Strata({"rmi", "gc-unused"}).exit_code, 0);
  auto freed = gateway.CollectGarbage();
  ASSERT_TRUE(freed.ok()) << freed.status();
  EXPECT_EQ(*freed, usage->images_reclaimable());
  auto again = gateway.CollectGarbage();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 0);
  stack_->Strata({"rm", "gc-keeper"});
}

TEST_F(GcTest, PruneAsksFirst) {
  CommandResult declined = stack_->Strata({"container", "prune"}, "n\n");
  EXPECT_EQ(declined.exit_code, 0);
  EXPECT_EQ(declined.output,
            "WARNING! This will remove all stopped containers.\n"
            "Are you sure you want to continue? [y/N] ");
  ASSERT_EQ(stack_->Strata({"create", "--name", "gc-stopped", "base", "true"}).exit_code, 0);
  CommandResult pruned = stack_->Strata({"container", "prune"}, "y\n");
  ASSERT_EQ(pruned.exit_code, 0) << pruned.error_output;
  EXPECT_NE(pruned.output.find("Deleted Containers:\n"), std::string::npos) << pruned.output;
  EXPECT_NE(stack_->Strata({"inspect", "gc-stopped"}).exit_code, 0);
  ASSERT_EQ(stack_->Strata({"run", "--name", "gc-src3", "base", "touch", "/x"}).exit_code, 0);
  ASSERT_EQ(stack_->Strata({"commit", "gc-src3", "gc-doomed2"}).exit_code, 0);
  ASSERT_EQ(stack_->Strata({"rm", "gc-src3"}).exit_code, 0);
  CommandResult images = stack_->Strata({"image", "prune", "-a", "-f"});
  ASSERT_EQ(images.exit_code, 0) << images.error_output;
  EXPECT_NE(images.output.find("Deleted Images:\nuntagged: gc-doomed2:latest\ndeleted: sha256:"),
            std::string::npos)
      << images.output;
  CommandResult system = stack_->Strata({"system", "prune", "-f"});
  EXPECT_EQ(system.exit_code, 0) << system.error_output;
  EXPECT_NE(system.output.find("Total reclaimed space: "), std::string::npos);
}

}  // namespace
}  // namespace strata::e2e
