// Blob GC benchmark (not a test): a store of --blobs blobs of which --images images of
// --layers layers reference some, plus --leases live leases; runs CollectGarbage (the fs
// backend and fs leases, the layerstore's own code) and prints its time and the process's peak
// RSS. The referenced set is built in memory, as imagegraph's ListReferencedBlobs would return
// it: the imagegraph query itself is not timed here (bench/imagegraph measures it).

#include <sys/resource.h>

#include <cstdio>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "lib/base/fs.h"
#include "services/layerstore/core/blob_gc.h"
#include "services/layerstore/core/fs_blob_store.h"
#include "services/layerstore/core/fs_lease_store.h"

int main(int argc, char** argv) {
  CLI::App app{"gc_bench: blob garbage collection over a store of many blobs"};
  std::string root = "/tmp/strata-gc-bench";
  int blobs = 10000, images = 1000, layers = 5, leases = 20, size = 4096;
  app.add_option("--root", root, "Store directory (emptied first)")->capture_default_str();
  app.add_option("--blobs", blobs)->capture_default_str();
  app.add_option("--images", images)->capture_default_str();
  app.add_option("--layers", layers, "Layers per image (distinct blobs)")->capture_default_str();
  app.add_option("--leases", leases, "Live leases, one blob each")->capture_default_str();
  app.add_option("--size", size, "Bytes per blob")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  using namespace strata::layerstore;
  (void)strata::RemoveAll(root);
  auto store = FsBlobStore::Open(root);
  auto lease_store = FsLeaseStore::Open(root);
  if (!store.ok() || !lease_store.ok()) {
    std::fprintf(stderr, "open %s failed\n", root.c_str());
    return 1;
  }
  std::vector<strata::Digest> digests;
  const absl::Time filling = absl::Now();
  for (int i = 0; i < blobs; ++i) {
    std::string data(static_cast<size_t>(size), '\0');
    const std::string seed = absl::StrCat("blob-", i, "-");
    for (size_t at = 0; at < data.size(); ++at) data[at] = seed[at % seed.size()];
    auto writer = (*store)->OpenWriter(absl::StrCat("bench-", i), {});
    if (!writer.ok() || !(*writer)->Write(0, data).ok()) return 1;
    auto committed = (*writer)->Commit();
    if (!committed.ok()) return 1;
    digests.push_back(committed->digest);
  }
  std::printf("filled %d blobs in %s\n", blobs, absl::FormatDuration(absl::Now() - filling).c_str());
  absl::flat_hash_set<std::string> referenced;
  for (int i = 0; i < images * layers && i < blobs; ++i) referenced.insert(digests[i].str());
  for (int i = 0; i < images; ++i) referenced.insert(absl::StrCat("sha256:", std::string(64, 'a' + i % 6)));
  for (int i = 0; i < leases && images * layers + i < blobs; ++i) {
    auto lease = (*lease_store)->Create(absl::Minutes(5));
    if (!lease.ok() || !(*lease_store)->AddBlob(lease->id, digests[images * layers + i]).ok()) {
      return 1;
    }
  }
  absl::SleepFor(absl::Milliseconds(10));  // every blob older than the collection's start
  const absl::Time start = absl::Now();
  auto report = CollectGarbage(
      **store, **lease_store,
      [&]() -> absl::StatusOr<absl::flat_hash_set<std::string>> { return referenced; },
      GcOptions{});
  const absl::Duration took = absl::Now() - start;
  if (!report.ok()) {
    std::fprintf(stderr, "gc: %s\n", std::string(report.status().message()).c_str());
    return 1;
  }
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  std::printf(
      "gc of %lld blobs (%d images x %d layers referenced, %d leases): %s; kept %lld referenced, "
      "%lld leased; removed %zu blobs (%lld bytes); peak RSS %ld KiB\n",
      static_cast<long long>(report->blobs_scanned), images, layers, leases,
      absl::FormatDuration(took).c_str(), static_cast<long long>(report->kept_referenced),
      static_cast<long long>(report->kept_leased), report->removed.size(),
      static_cast<long long>(report->bytes_removed), usage.ru_maxrss);
  (void)strata::RemoveAll(root);
  return 0;
}
