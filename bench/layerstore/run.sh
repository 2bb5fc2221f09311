#!/usr/bin/env bash
# Builds strata-layerstore and the benchmark (same build settings as deploy/up.sh) and runs
# the benchmark: a 1 GiB blob up and down through the service over loopback gRPC, next to cat,
# sha256sum and openssl on the same file, and the service's peak RSS above idle.
#
#   bench/layerstore/run.sh [--repetitions=3] [--size=BYTES] [--workdir=DIR]
#
# Needs about 2x the blob size free in the work directory (default /var/tmp). Set
# BAZEL_OUTPUT_BASE to build in a separate Bazel output base. Exits 2 when a target is missed.
set -euo pipefail
cd "$(dirname "$0")/../.."

bazel=(bazel)
if [[ -n "${BAZEL_OUTPUT_BASE:-}" ]]; then
  bazel+=(--output_base="$BAZEL_OUTPUT_BASE")
fi
"${bazel[@]}" build //bench/layerstore:layerstore_bench //services/layerstore:strata-layerstore
bin=$("${bazel[@]}" info bazel-bin 2>/dev/null)
exec "$bin/bench/layerstore/layerstore_bench" \
  --server="$bin/services/layerstore/strata-layerstore" "$@"
