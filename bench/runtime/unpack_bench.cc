// Unpack throughput of the layer codec: a layer file (any compression) unpacked into a fresh
// directory, as the runtime's snapshotter does (without its final syncfs unless --sync).

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>

#include "CLI/CLI.hpp"
#include "absl/time/clock.h"
#include "lib/base/fs.h"
#include "lib/layer/stream.h"
#include "lib/layer/unpacker.h"

int main(int argc, char** argv) {
  CLI::App app{"unpack_bench"};
  std::string layer;
  std::string target;
  bool sync = false;
  app.add_option("layer", layer)->required();
  app.add_option("target", target)->required();
  app.add_flag("--sync", sync, "syncfs after unpacking (what the snapshotter does)");
  CLI11_PARSE(app, argc, argv);
  strata::UniqueFd input(::open(layer.c_str(), O_RDONLY));
  if (!input.valid() || !strata::MakeDirs(target).ok()) {
    std::perror(layer.c_str());
    return 1;
  }
  strata::UniqueFd out(::open(target.c_str(), O_RDONLY | O_DIRECTORY));
  strata::layer::FdSource source(input.get());
  const absl::Time start = absl::Now();
  auto stats = strata::layer::UnpackLayer(&source, out.get());
  if (!stats.ok()) {
    std::fprintf(stderr, "%s\n", std::string(stats.status().message()).c_str());
    return 1;
  }
  if (sync) ::syncfs(out.get());
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  std::printf("%.0f MB uncompressed in %.2f s: %.0f MB/s (%lu entries)\n",
              stats->uncompressed_size / 1e6, seconds, stats->uncompressed_size / 1e6 / seconds,
              static_cast<unsigned long>(stats->entries));
  return 0;
}
