#!/usr/bin/env bash
# Runtime benchmarks (issue: runtime containers):
#  1. CreateContainer + Start to the first byte of `echo hi`, for an image already unpacked,
#     next to `podman run --rm IMAGE echo hi` (podman from Debian, with runc);
#  2. unpack throughput of a 500 MB layer, next to `tar -x` of the same layer.
# Runs a private stack (bench/stack.sh); prints medians.
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/stack.sh
deploy/install-deps.sh --test
bazel build //bench/runtime:first_byte_bench //bench/runtime:unpack_bench >/dev/null 2>&1
bench_bin="$(bazel info bazel-bin 2>/dev/null)/bench/runtime"
start_stack
work=$(mktemp -d /var/tmp/strata-bench-work.XXXXXX)
trap 'stop_stack; rm -rf "$work"; podman rmi -f localhost/strata-bench-base >/dev/null 2>&1 || true' EXIT

busybox_rootfs "$work/rootfs"
tar -C "$work/rootfs" -cf "$work/busybox.tar" .
"$strata" import "$work/busybox.tar" bench-base >/dev/null
podman import "$work/busybox.tar" localhost/strata-bench-base >/dev/null
runs=${RUNS:-15}

echo "== 1. start-up: CreateContainer+Start to the first byte of 'echo hi' =="
"$bench_bin/first_byte_bench" --runtime "$STRATA_RUNTIME" --imagegraph "$STRATA_IMAGEGRAPH" \
  --image bench-base --iterations "$runs" | tail -n 1 | sed 's/^/strata API:      /'
times=()
for _ in $(seq "$runs"); do
  start=$(now_ns); "$strata" run --rm bench-base echo hi >/dev/null; times+=("$(elapsed_ms "$start")")
done
echo "strata run --rm: median $(median "${times[@]}") ms (whole command: create, start, attach, remove)"
"${podman_run[@]}" --rm --network host localhost/strata-bench-base echo hi >/dev/null  # warm up
times=()
for _ in $(seq "$runs"); do
  start=$(now_ns)
  "${podman_run[@]}" --rm --network host localhost/strata-bench-base echo hi >/dev/null
  times+=("$(elapsed_ms "$start")")
done
echo "podman run --rm: median $(median "${times[@]}") ms"

echo "== 2. unpack of a 500 MB layer =="
mkdir -p "$work/big/files" "$work/big/small"
for i in $(seq 400); do head -c 1000000 /dev/urandom >"$work/big/files/$i"; done
head -c 100000000 /dev/zero >"$work/big/zeros"
for i in $(seq 2000); do echo "$i" >"$work/big/small/$i"; done
tar -C "$work/big" -cf "$work/big.tar" .
zstd -q -1 -T0 "$work/big.tar" -o "$work/big.tar.zst"
echo "layer: $(du -m "$work/big.tar" | cut -f1) MB uncompressed, $(du -m "$work/big.tar.zst" | cut -f1) MB zstd"
sync
for round in 1 2 3; do
  rm -rf "$work/t"; mkdir "$work/t"; sync
  start=$(now_ns); tar -C "$work/t" -xf "$work/big.tar"; tar_ms=$(elapsed_ms "$start")
  rm -rf "$work/t"; mkdir "$work/t"; sync
  start=$(now_ns); zstd -dc "$work/big.tar.zst" | tar -C "$work/t" -xf -; ztar_ms=$(elapsed_ms "$start")
  rm -rf "$work/u"; sync
  ours=$("$bench_bin/unpack_bench" "$work/big.tar.zst" "$work/u")
  rm -rf "$work/u"; sync
  ours_sync=$("$bench_bin/unpack_bench" --sync "$work/big.tar.zst" "$work/u")
  rm -rf "$work/u"
  echo "round $round: tar -x (uncompressed) ${tar_ms} ms; zstd -dc | tar -x ${ztar_ms} ms;" \
       "strata unpack (zstd): $ours; with syncfs: $ours_sync"
done
# End to end: a container from an image whose 500 MB layer is not on the node yet (pull from
# layerstore over gRPC, verify, unpack, syncfs).
"$strata" import "$work/big.tar.zst" bench-big >/dev/null
start=$(now_ns); "$strata" create --name big bench-big true >/dev/null; create_ms=$(elapsed_ms "$start")
echo "strata create from the new 500 MB image (pull + verify + unpack + syncfs): ${create_ms} ms"
