#!/usr/bin/env bash
# Benchmark of strata-imagegraph: builds the bench and the service, then runs the bench, which
# starts its own PostgreSQL (under /tmp, as the "postgres" user when run as root) and the real
# strata-imagegraph binary, loads the data through CreateImage and prints p50/p90/p99/max per
# operation over loopback gRPC. Defaults: 10,000 images of 20 layers.
#
#   bench/imagegraph/run.sh [--images=N] [--layers=N] [--samples=N] [--clients=N] ...
#
# Extra Bazel startup flags (e.g. a private output base) go in BAZEL_STARTUP_FLAGS:
#   BAZEL_STARTUP_FLAGS=--output_base=/root/.cache/bazel-imagegraph bench/imagegraph/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

bazel=(bazel ${BAZEL_STARTUP_FLAGS:-})
"${bazel[@]}" build //bench/imagegraph:imagegraph_bench //services/imagegraph:strata-imagegraph
bin=$("${bazel[@]}" info bazel-bin 2>/dev/null)
exec "$bin/bench/imagegraph/imagegraph_bench" \
  --imagegraph="$bin/services/imagegraph/strata-imagegraph" "$@"
