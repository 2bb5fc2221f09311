#!/usr/bin/env bash
# save and load (issue 14): a ~1 GB image of 3 layers of fresh random bytes (about 340 MB
# each, on the busybox base) is saved and loaded by strata and by podman (Debian's, with
# runc) on the same machine: `save -o FILE` (docker-archive, both tools' default; and strata's
# oci-archive with zstd, which streams stored blobs), and `load -i FILE` of the same archive
# into a store that does not have the image. Every repetition makes new content (stores
# deduplicate by digest) and starts each timed step from a cold page cache. Prints the median
# of REPS (default 3) per step and the strata/podman ratios.
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/stack.sh
deploy/install-deps.sh --test
start_stack
work=$(mktemp -d /var/tmp/strata-archive-bench.XXXXXX)
cleanup() {
  stop_stack
  podman rmi -f $(podman images -q --filter reference='localhost/strata-archive-bench*') >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

busybox_rootfs "$work/rootfs"
tar -C "$work/rootfs" -cf "$work/busybox.tar" .
"$strata" import "$work/busybox.tar" archive-bench-base >/dev/null
cold() { sync; echo 3 >/proc/sys/vm/drop_caches; }
reps=${REPS:-3}
mb=${LAYER_MB:-340}

declare -A t
for rep in $(seq "$reps"); do
  image="localhost/strata-archive-bench:$rep"
  from=archive-bench-base
  for layer in 1 2 3; do
    "$strata" run --name "ab-$rep-$layer" "$from" sh -c "head -c $((mb << 20)) /dev/urandom > /layer$layer" 
    from="ab-$rep:$layer"
    "$strata" commit "ab-$rep-$layer" "$from" >/dev/null
    "$strata" rm "ab-$rep-$layer" >/dev/null
  done
  "$strata" tag "$from" "$image"

  cold; start=$(now_ns); "$strata" save -o "$work/strata.tar" "$image"; t[strata_save]+=" $(elapsed_ms "$start")"
  cold; start=$(now_ns); "$strata" save --format oci-archive --compression-format zstd -o "$work/strata-oci.tar" "$image"; t[strata_save_oci_zstd]+=" $(elapsed_ms "$start")"
  rm -f "$work/strata-oci.tar"
  # Load into a store without the image: its layers go, the base stays.
  for l in 1 2 3; do "$strata" rmi "ab-$rep:$l" >/dev/null 2>&1 || true; done
  "$strata" rmi "$image" >/dev/null
  cold; start=$(now_ns); "$strata" load -q -i "$work/strata.tar" >/dev/null; t[strata_load]+=" $(elapsed_ms "$start")"

  cold; start=$(now_ns); podman load -q -i "$work/strata.tar" >/dev/null; t[podman_load]+=" $(elapsed_ms "$start")"
  cold; start=$(now_ns); podman save -q -o "$work/podman.tar" "$image"; t[podman_save]+=" $(elapsed_ms "$start")"
  rm -f "$work/podman.tar" "$work/strata.tar"
  podman rmi -f "$image" >/dev/null
  "$strata" rmi "$image" >/dev/null
  echo "repetition $rep done"
done

printf '\n%-24s %10s   (%s)\n' step median_ms runs
for key in $(printf '%s\n' "${!t[@]}" | sort); do
  printf '%-24s %10s   (%s)\n' "$key" "$(median ${t[$key]})" "${t[$key]# }"
done
ratio() { awk -v a="$(median ${t[$1]})" -v b="$(median ${t[$2]})" 'BEGIN {printf "%.2f", a / b}'; }
echo
echo "save: strata/podman = $(ratio strata_save podman_save)"
echo "load: strata/podman = $(ratio strata_load podman_load)"
