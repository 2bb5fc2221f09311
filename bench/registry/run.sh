#!/usr/bin/env bash
# Registry benchmark (issue 13): a 3-layer image of about 1 GB (three ~340 MB layers of fresh
# random bytes per repetition, so nothing is deduplicated) on a loopback docker-registry:
# `strata push` vs `podman push` (of the same image, pulled by podman, to a second registry), `strata pull` vs `podman pull` and `skopeo copy
# docker://... oci:DIR`, and pull-then-first-run (`echo hi`) for strata and podman; medians of
# REPS (3) runs, then the ratios strata/podman. Each pull starts with the image and its layers
# gone from the puller's store, and from a cold page cache.
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/stack.sh
deploy/install-deps.sh --test
start_stack
work=$(mktemp -d /var/tmp/strata-registry-bench.XXXXXX)
registry_pid=
cleanup() {
  # shellcheck disable=SC2086
  [[ -n "$registry_pid" ]] && kill $registry_pid 2>/dev/null || true
  stop_stack
  podman rmi -f $(podman images -q --filter reference='127.0.0.1:*/bench/*') >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

port=${REGISTRY_PORT:-7540}
cat >"$work/registry.yml" <<YML
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $work/registry
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
  secret: bench
YML
sed -e "s|$work/registry|$work/registry2|" -e "s|:$port|:$((port + 1))|" "$work/registry.yml" >"$work/registry2.yml"
/usr/bin/docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
registry_pid=$!
/usr/bin/docker-registry serve "$work/registry2.yml" >"$work/registry2.log" 2>&1 &
registry_pid="$registry_pid $!"
for p in "$port" "$((port + 1))"; do
  for _ in $(seq 50); do curl -sf "http://127.0.0.1:$p/v2/" >/dev/null && break; sleep 0.1; done
done
reg="127.0.0.1:$port"; reg2="127.0.0.1:$((port + 1))"

busybox_rootfs "$work/rootfs"
tar -C "$work/rootfs" -cf "$work/busybox.tar" .
"$strata" import "$work/busybox.tar" rb-base >/dev/null
cold() { sync; echo 3 >/proc/sys/vm/drop_caches; }
layer_mb=${LAYER_MB:-340}
reps=${REPS:-3}
declare -A t
for rep in $(seq "$reps"); do
  # One image per repetition: three commits, each adding a layer of fresh random bytes.
  image=rb-base
  for layer in 1 2 3; do
    "$strata" run --name "rb-$rep-$layer" "$image" sh -c "head -c $((layer_mb * 1000000)) /dev/urandom > /l$layer" >/dev/null
    "$strata" commit "rb-$rep-$layer" "rb:$rep-$layer" >/dev/null
    "$strata" rm "rb-$rep-$layer" >/dev/null
    image="rb:$rep-$layer"
  done
  s_ref="$reg/bench/strata:$rep"; p_ref="$reg2/bench/podman:$rep"
  "$strata" tag "$image" "$s_ref"
  # strata pushes its image (zstd layers converted to gzip, as podman compresses at push).
  cold; start=$(now_ns); "$strata" push -q "$s_ref" >/dev/null; t[strata_push]+=" $(elapsed_ms "$start")"
  # podman pulls it, runs it, and pushes it to the second registry (nothing to mount there).
  cold; start=$(now_ns); podman pull -q --tls-verify=false "$s_ref" >/dev/null; t[podman_pull]+=" $(elapsed_ms "$start")"
  start=$(now_ns); "${podman_run[@]}" --rm --network host "$s_ref" echo hi >/dev/null; t[podman_first_run]+=" $(elapsed_ms "$start")"
  podman tag "$s_ref" "$p_ref"
  cold; start=$(now_ns); podman push -q --tls-verify=false "$p_ref" >/dev/null; t[podman_push]+=" $(elapsed_ms "$start")"
  podman rmi -f "$p_ref" "$s_ref" >/dev/null
  # strata pulls it into a store without its layers.
  "$strata" rmi "$s_ref" >/dev/null
  for layer in 3 2 1; do "$strata" rmi "rb:$rep-$layer" >/dev/null; done
  cold; start=$(now_ns); "$strata" pull -q "$s_ref" >/dev/null; t[strata_pull]+=" $(elapsed_ms "$start")"
  start=$(now_ns); "$strata" run --rm "$s_ref" echo hi >/dev/null; t[strata_first_run]+=" $(elapsed_ms "$start")"
  rm -rf "$work/oci"
  cold; start=$(now_ns); skopeo copy -q --src-tls-verify=false "docker://$s_ref" "oci:$work/oci:x" >/dev/null; t[skopeo_copy]+=" $(elapsed_ms "$start")"
  rm -rf "$work/oci"
  "$strata" rmi "$s_ref" >/dev/null
  echo "repetition $rep done"
done

echo
echo "Registry medians over $reps repetitions (ms; 3 layers of $layer_mb MB of random bytes):"
for key in strata_push podman_push strata_pull podman_pull skopeo_copy strata_first_run podman_first_run; do
  # shellcheck disable=SC2086
  printf '  %-18s %s\n' "$key" "$(median ${t[$key]})"
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
# shellcheck disable=SC2086
echo "  push strata/podman: $(ratio "$(median ${t[strata_push]})" "$(median ${t[podman_push]})")"
# shellcheck disable=SC2086
echo "  pull strata/podman: $(ratio "$(median ${t[strata_pull]})" "$(median ${t[podman_pull]})")"
# shellcheck disable=SC2086
echo "  pull strata/skopeo: $(ratio "$(median ${t[strata_pull]})" "$(median ${t[skopeo_copy]})")"
