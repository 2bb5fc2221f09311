#!/usr/bin/env bash
# An all-in-one OpenStack Swift (Debian's 2.30) with the s3api middleware and tempauth, on
# 127.0.0.1, for tests, benchmarks and trying the s3 backend out. Runs in the foreground until
# SIGTERM/SIGINT, then stops its servers and removes what it created.
#
#   swift-server.sh [--dir DIR] [--port PORT] [--bucket NAME]... [--min-part-size BYTES]
#
#   --dir            where rings, configs, the object device and logs go (default: a fresh
#                    temporary directory, removed at exit; a given one is kept)
#   --port           the S3 port (default: a free one)
#   --bucket         create this bucket once the server answers (repeatable)
#   --min-part-size  s3api's smallest multipart part but the last (default 5 MiB, as AWS; tests
#                    use 1 MiB to exercise multipart uploads with small blobs)
#
# Prints "listening on 127.0.0.1:PORT" once S3 requests are served (what the tests wait for).
# Credentials (tempauth): access key "test:tester", secret key "testing"; region us-east-1.
# The object server stores metadata in user xattrs: DIR must be on a file system that has them
# (ext4, xfs, tmpfs do).
set -euo pipefail

dir=""
port=""
buckets=()
min_part_size=$((5 << 20))
while (($#)); do
  case "$1" in
    --dir) dir="$2"; shift 2 ;;
    --port) port="$2"; shift 2 ;;
    --bucket) buckets+=("$2"); shift 2 ;;
    --min-part-size) min_part_size="$2"; shift 2 ;;
    *) echo "swift-server.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
for tool in memcached swift-proxy-server swift-object-server swift-container-server \
    swift-account-server curl; do
  command -v "$tool" >/dev/null || {
    echo "swift-server.sh: $tool is missing (deploy/install-deps.sh --test installs it)" >&2
    exit 1
  }
done

keep_dir=1
if [[ -z "$dir" ]]; then
  dir="$(mktemp -d "${TMPDIR:-/tmp}/swift.XXXXXX")"
  keep_dir=0
fi
mkdir -p "$dir/srv/d1" "$dir/run" "$dir/log"
if ! /usr/bin/python3 -c "import os,sys; os.setxattr(sys.argv[1], 'user.strata', b'1')" \
    "$dir/srv/d1" 2>/dev/null; then
  echo "swift-server.sh: $dir does not support user xattrs, which Swift's object server needs" >&2
  exit 1
fi

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
[[ -n "$port" ]] || port="$(free_port)"
object_port="$(free_port)"
memcache_port="$(free_port)"
container_port="$(free_port)"
account_port="$(free_port)"

# One replica, one device: a ring of 2^6 partitions is plenty on one host. Built in one
# Python process (swift-ring-builder would take nine, each slow to start).
/usr/bin/python3 - "$dir" "$account_port" "$container_port" "$object_port" <<'PY'
import sys
from swift.common.ring import RingBuilder
directory = sys.argv[1]
for name, port in zip(("account", "container", "object"), sys.argv[2:5]):
    builder = RingBuilder(6, 1, 1)
    builder.add_dev({"id": 0, "region": 1, "zone": 1, "ip": "127.0.0.1", "port": int(port),
                     "device": "d1", "weight": 100})
    builder.rebalance()
    builder.get_ring().save("%s/%s.ring.gz" % (directory, name))
PY

common="[DEFAULT]
swift_dir = $dir
devices = $dir/srv
mount_check = false
bind_ip = 127.0.0.1
workers = 0
log_name = swift
log_facility = LOG_LOCAL0
log_level = WARNING
log_address = /dev/null
disable_fallocate = true"

cat >"$dir/object-server.conf" <<CONF
$common
bind_port = $object_port
[pipeline:main]
pipeline = object-server
[app:object-server]
use = egg:swift#object
CONF
cat >"$dir/container-server.conf" <<CONF
$common
bind_port = $container_port
[pipeline:main]
pipeline = container-server
[app:container-server]
use = egg:swift#container
CONF
cat >"$dir/account-server.conf" <<CONF
$common
bind_port = $account_port
[pipeline:main]
pipeline = account-server
[app:account-server]
use = egg:swift#account
CONF
cat >"$dir/proxy-server.conf" <<CONF
$common
bind_port = $port
[pipeline:main]
pipeline = catch_errors gatekeeper proxy-logging cache listing_formats s3api tempauth copy slo dlo proxy-logging proxy-server
[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
[filter:catch_errors]
use = egg:swift#catch_errors
[filter:gatekeeper]
use = egg:swift#gatekeeper
[filter:proxy-logging]
use = egg:swift#proxy_logging
[filter:cache]
# Account and container info is cached there: without it every request costs two more
# backend requests. tempauth needs a cache in the request too.
use = egg:swift#memcache
memcache_servers = 127.0.0.1:$memcache_port
[filter:listing_formats]
use = egg:swift#listing_formats
[filter:s3api]
use = egg:swift#s3api
location = us-east-1
storage_domain = localhost
min_segment_size = $min_part_size
[filter:tempauth]
use = egg:swift#tempauth
user_test_tester = testing .admin
[filter:copy]
use = egg:swift#copy
[filter:slo]
use = egg:swift#slo
[filter:dlo]
use = egg:swift#dlo
CONF

pids=()
stop() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  ((keep_dir)) || rm -rf "$dir"
}
trap stop EXIT
trap 'exit 0' INT TERM

memcached -l 127.0.0.1 -p "$memcache_port" -U 0 -m 64 -u root >"$dir/log/memcached.log" 2>&1 &
pids+=($!)
for server in account container object proxy; do
  "swift-$server-server" "$dir/$server-server.conf" >"$dir/log/$server.log" 2>&1 &
  pids+=($!)
done

# Ready when an S3 request is answered (tempauth has the user, the rings are loaded).
# The access key holds a colon, which --user would split at: a netrc file gives it whole.
printf 'machine 127.0.0.1 login test:tester password testing\n' >"$dir/netrc"
chmod 600 "$dir/netrc"
sigv4=(--aws-sigv4 "aws:amz:us-east-1:s3" --netrc-file "$dir/netrc"
       -H "x-amz-content-sha256: UNSIGNED-PAYLOAD")
deadline=$((SECONDS + ${SWIFT_START_TIMEOUT:-120}))
code=""
while ((SECONDS < deadline)); do
  code="$(curl -s -o /dev/null -w '%{http_code}' "${sigv4[@]}" "http://127.0.0.1:$port/" || true)"
  [[ "$code" == 200 ]] && break
  for pid in "${pids[@]}"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "swift-server.sh: a server exited; its logs:" >&2
      tail -n 20 "$dir"/log/*.log >&2
      exit 1
    fi
  done
  sleep 0.1
done
[[ "$code" == 200 ]] || { echo "swift-server.sh: no answer on port $port" >&2; exit 1; }
for bucket in "${buckets[@]}"; do
  code="$(curl -s -o "$dir/log/bucket.out" -w '%{http_code}' -X PUT "${sigv4[@]}" \
    "http://127.0.0.1:$port/$bucket")"
  [[ "$code" == 200 ]] || { echo "swift-server.sh: creating bucket $bucket: HTTP $code" >&2; cat "$dir/log/bucket.out" >&2; exit 1; }
done
echo "listening on 127.0.0.1:$port"
wait -n "${pids[@]}" || true
echo "swift-server.sh: a server exited" >&2
tail -n 20 "$dir"/log/*.log >&2
exit 1
