// store_bench: FsBlobStore alone (no gRPC): how fast an upload of in-memory chunks is hashed,
// written and committed, and how fast a blob is read back. Tells the store's share of the
// service's numbers apart from gRPC's.

#include <cstdio>
#include <memory>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "lib/base/fs.h"
#include "lib/base/malloc_tuning.h"
#include "services/layerstore/core/fs_blob_store.h"

int main(int argc, char** argv) {
  strata::TuneMallocForStreaming();
  CLI::App app{"store_bench: FsBlobStore upload/read speed without gRPC"};
  std::string workdir = "/var/tmp/strata-store-bench";
  app.add_option("--workdir", workdir)->capture_default_str();
  int64_t size = int64_t{1} << 30;
  app.add_option("--size", size)->capture_default_str();
  int64_t writeback = 8 << 20;
  app.add_option("--writeback-interval", writeback)->capture_default_str();
  size_t queue = 4 << 20;
  bool past_cache = true;
  app.add_option("--past-page-cache", past_cache)->capture_default_str();
  app.add_option("--queue", queue)->capture_default_str();
  int64_t sync_interval = 64 << 20;
  app.add_option("--sync-interval", sync_interval)->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  (void)strata::RemoveAll(workdir);
  strata::layerstore::FsBlobStore::Options options;
  options.max_queued_bytes = queue;
  options.writeback_interval_bytes = writeback;
  options.sync_interval_bytes = sync_interval;
  options.stream_past_page_cache = past_cache;
  auto store = strata::layerstore::FsBlobStore::Open(workdir, options);
  if (!store.ok()) return 1;
  std::string pattern(1 << 20, '\0');
  uint64_t state = static_cast<uint64_t>(absl::ToUnixNanos(absl::Now())) | 1;
  for (size_t i = 0; i < pattern.size(); i += 8) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    memcpy(&pattern[i], &state, 8);
  }
  const absl::Time start = absl::Now();
  auto writer = (*store)->OpenWriter("bench", {});
  if (!writer.ok()) return 1;
  for (int64_t at = 0; at < size; at += pattern.size()) {
    pattern[0] = static_cast<char>(at >> 20);  // every chunk differs
    std::string chunk = pattern;
    if (!(*writer)->Write(at, std::move(chunk)).ok()) return 1;
  }
  const absl::Time written = absl::Now();
  auto result = (*writer)->Commit();
  if (!result.ok()) return 1;
  const absl::Time committed = absl::Now();
  auto reader = (*store)->OpenReader(result->digest, 0, 0);
  std::string buffer(1 << 20, '\0');
  int64_t total = 0;
  for (;;) {
    auto n = (*reader)->Read(buffer.data(), buffer.size());
    if (!n.ok() || *n == 0) break;
    total += *n;
  }
  const absl::Time read = absl::Now();
  const auto mbps = [&](absl::Duration d) { return size / 1e6 / absl::ToDoubleSeconds(d); };
  std::printf("write loop %.0f MB/s, commit %.2f s, upload total %.0f MB/s, read %.0f MB/s\n",
              mbps(written - start), absl::ToDoubleSeconds(committed - written),
              mbps(committed - start), mbps(read - committed));
  (void)strata::RemoveAll(workdir);
  return 0;
}
