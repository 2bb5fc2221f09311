#!/usr/bin/env bash
# The s3 backend next to the fs one and to curl: starts an all-in-one Swift with s3api
# (tests/objectstore/swift-server.sh), then
#   1. curl PUTs and GETs the same bytes to the same bucket (one request each: the limit),
#   2. bench/layerstore/run.sh with --backend=fs, and with --backend=s3 on that bucket.
#
#   bench/layerstore/s3.sh [--size=BYTES] [--repetitions=N] [--workdir=DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
size=$((1 << 30))
workdir=/var/tmp/strata-s3-bench
args=()
for arg in "$@"; do
  case "$arg" in
    --size=*) size="${arg#--size=}"; args+=("$arg") ;;
    --workdir=*) workdir="${arg#--workdir=}"; args+=("$arg") ;;
    *) args+=("$arg") ;;
  esac
done
mkdir -p "$workdir"
log="$workdir/swift.out"
tests/objectstore/swift-server.sh --dir "$workdir/swift" --bucket bench >"$log" 2>&1 &
swift_pid=$!
trap 'kill $swift_pid 2>/dev/null; wait $swift_pid 2>/dev/null; rm -rf "$workdir"' EXIT
until grep -q "listening on" "$log"; do
  kill -0 "$swift_pid" 2>/dev/null || { cat "$log" >&2; exit 1; }
  sleep 0.5
done
endpoint="http://$(sed -n 's/^listening on //p' "$log")"
creds="$workdir/credentials"
printf '[default]\naws_access_key_id = test:tester\naws_secret_access_key = testing\n' >"$creds"
chmod 600 "$creds"

head -c "$size" /dev/urandom >"$workdir/blob"
sigv4=(--aws-sigv4 "aws:amz:us-east-1:s3" --netrc-file "$workdir/swift/netrc"
       -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" -s -o /dev/null -w '%{time_total}')
put=$(curl "${sigv4[@]}" -T "$workdir/blob" "$endpoint/bench/curl-blob")
get=$(curl "${sigv4[@]}" "$endpoint/bench/curl-blob")
mib=$(awk -v s="$size" 'BEGIN { print s / 1048576 }')
echo "curl (one PUT / one GET of $mib MiB): write $(awk -v m="$mib" -v t="$put" 'BEGIN { printf "%.0f", m / t }') MiB/s, read $(awk -v m="$mib" -v t="$get" 'BEGIN { printf "%.0f", m / t }') MiB/s"
rm -f "$workdir/blob"

# run.sh exits 2 when it misses a target of its own: report on, both backends.
if [[ "${SKIP_FS:-0}" != 1 ]]; then
  echo "== fs backend"
  bench/layerstore/run.sh "${args[@]}" || true
fi
echo "== s3 backend (Swift on loopback, 16 MiB parts)"
bench/layerstore/run.sh "${args[@]}" --server-arg=--backend=s3 \
  --server-arg=--s3-endpoint="$endpoint" --server-arg=--s3-bucket=bench \
  --server-arg=--s3-credentials-file="$creds" || true
