#!/usr/bin/env bash
# Load on several hosts (issue 16): the multi-host topology of tests/multihost on this
# machine, and on each of its three nodes LOOPS parallel loops of run -> commit -> run on the
# next node, for SECONDS. Prints commits per second, p50/p99 latencies and errors (none
# allowed). Root only.
#   bench/multihost/run.sh [SECONDS [LOOPS]]
set -euo pipefail
cd "$(dirname "$0")/../.."
bazel build //bench/multihost:multihost_bench >/dev/null 2>&1
bin="$(bazel info bazel-bin 2>/dev/null)/bench/multihost"
TEST_SRCDIR="$bin/multihost_bench.runfiles" TEST_WORKSPACE=strata \
  "$bin/multihost_bench" --seconds "${1:-30}" --loops "${2:-2}"
