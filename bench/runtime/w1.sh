#!/usr/bin/env bash
# Workload W1 (issue: diff, commit, export): a container from a small busybox image writes
# 20,000 small files, one 256 MiB file of random bytes and one 256 MiB file of zeros (about
# 530 MB). Then, for strata and for podman (Debian's, with runc) on the same machine:
# `commit` (zstd default, and gzip), `diff`, `export` to a file; plus the practical limit
# `tar -cf - UPPER | zstd -T0 -1 > /dev/null`, and the runtime's peak memory during commit.
# Every repetition writes fresh random bytes (stores deduplicate by digest).
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/stack.sh
deploy/install-deps.sh --test
start_stack
work=$(mktemp -d /var/tmp/strata-w1.XXXXXX)
cleanup() {
  stop_stack
  podman rm -f $(podman ps -aq --filter name=strata-w1) >/dev/null 2>&1 || true
  podman rmi -f $(podman images -q --filter reference='localhost/strata-w1*') >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

busybox_rootfs "$work/rootfs"
tar -C "$work/rootfs" -cf "$work/busybox.tar" .
"$strata" import "$work/busybox.tar" w1-base >/dev/null
podman import "$work/busybox.tar" localhost/strata-w1-base >/dev/null
script='mkdir /files && cd /files && i=0 && while [ $i -lt 20000 ]; do echo "file $i" > f$i; i=$((i+1)); done && head -c 268435456 /dev/urandom > /random && head -c 268435456 /dev/zero > /zeros'
runtime_pid=$(cat "$STRATA_STATE_DIR/run/runtime.pid")
layerstore_pid=$(cat "$STRATA_STATE_DIR/run/layerstore.pid")
kb() { awk -v key="$2:" '$1 == key {print $2}' "/proc/$1/status"; }
# Every timed step starts from a cold page cache, for both tools.
cold() { sync; echo 3 >/proc/sys/vm/drop_caches; }
reps=${REPS:-3}

declare -A t
for rep in $(seq "$reps"); do
  # strata
  "$strata" run --name "w1-$rep" w1-base sh -c "$script"
  cold; start=$(now_ns); "$strata" diff "w1-$rep" >"$work/diff.txt"; t[strata_diff]+=" $(elapsed_ms "$start")"
  upper=$("$strata" inspect --type container "w1-$rep" | awk -F'"' '/"UpperDir"/ {print $4}')
  cold; start=$(now_ns); tar -C "$upper" -cf - . | zstd -T0 -1 >/dev/null; t[tar_zstd]+=" $(elapsed_ms "$start")"
  cold
  t[runtime_rss_before_mb]+=" $(( $(kb "$runtime_pid" VmRSS) / 1024 ))"
  echo 5 >/proc/$runtime_pid/clear_refs  # the peak starts again from the current size
  start=$(now_ns); "$strata" commit "w1-$rep" "w1:zstd-$rep" >/dev/null; t[strata_commit]+=" $(elapsed_ms "$start")"
  t[runtime_peak_during_commit_mb]+=" $(( $(kb "$runtime_pid" VmHWM) / 1024 ))"
  cold; start=$(now_ns); "$strata" commit --compression gzip "w1-$rep" "w1:gzip-$rep" >/dev/null; t[strata_commit_gzip]+=" $(elapsed_ms "$start")"
  cold; start=$(now_ns); "$strata" export -o "$work/strata.tar" "w1-$rep"; t[strata_export]+=" $(elapsed_ms "$start")"
  rm -f "$work/strata.tar"
  "$strata" rm "w1-$rep" >/dev/null

  # podman
  "${podman_run[@]}" --network host --name "strata-w1-$rep" localhost/strata-w1-base sh -c "$script"
  cold; start=$(now_ns); podman diff "strata-w1-$rep" >"$work/podman-diff.txt"; t[podman_diff]+=" $(elapsed_ms "$start")"
  cold; start=$(now_ns); podman commit -q "strata-w1-$rep" "localhost/strata-w1:$rep" >/dev/null; t[podman_commit]+=" $(elapsed_ms "$start")"
  cold; start=$(now_ns); podman export -o "$work/podman.tar" "strata-w1-$rep"; t[podman_export]+=" $(elapsed_ms "$start")"
  rm -f "$work/podman.tar"
  podman rm -f "strata-w1-$rep" >/dev/null
  echo "repetition $rep done: $(wc -l <"$work/diff.txt") diff lines (podman: $(wc -l <"$work/podman-diff.txt"))"
done

echo
echo "W1 medians over $reps repetitions (times in ms, cold page cache; memory in MiB):"
for key in strata_commit strata_commit_gzip podman_commit strata_diff podman_diff strata_export podman_export tar_zstd runtime_rss_before_mb runtime_peak_during_commit_mb; do
  # shellcheck disable=SC2086
  printf '  %-24s %s\n' "$key" "$(median ${t[$key]})"
done
echo "layerstore RSS now: $(( $(kb "$layerstore_pid" VmRSS) / 1024 )) MiB"
