#!/usr/bin/env bash
# Blob GC benchmark: a store of 10,000 blobs, 1,000 images of 5 layers referencing half of
# them, 20 live leases; prints the collection's time and peak RSS. Flags go to the bench
# (--blobs, --images, --layers, --leases, --size, --root).
#
#   bench/gc.sh [--blobs=N] [--images=N] ...
set -euo pipefail
cd "$(dirname "$0")/.."
bazel=(bazel ${BAZEL_STARTUP_FLAGS:-})
"${bazel[@]}" build //bench/gc:gc_bench
bin=$("${bazel[@]}" info bazel-bin 2>/dev/null)
exec "$bin/bench/gc/gc_bench" "$@"
