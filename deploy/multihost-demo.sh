#!/usr/bin/env bash
# Several Strata hosts on this one machine, to try a multi-host install without the hosts:
# one PostgreSQL, two imagegraph and two layerstore replicas (sharing one store directory),
# and three runtime nodes (a, b, c), each with its gateway. Every process listens on a
# loopback address of its own (Linux routes all of 127.0.0.0/8 to lo): layerstore
# 127.0.1.1 and 127.0.2.1 :7420, imagegraph 127.0.11.1 and 127.0.12.1 :7421, node a/b/c
# 127.0.21.1/127.0.22.1/127.0.23.1 (runtime :7422, gateway :7423). Each node keeps its state
# on a tmpfs in a mount namespace of its own, so nodes share nothing through the disk.
# Everything is mTLS with certificates from deploy/certs.sh and a bearer token.
#
#   deploy/multihost-demo.sh up           # build, make certificates, start it all
#   eval "$(deploy/multihost-demo.sh env b)"   # point this shell's strata at node b
#   deploy/multihost-demo.sh down         # stop it all and remove its directory
#
# Its directory is $STRATA_DEMO_DIR (/tmp/strata-multihost); binaries come from bazel-bin,
# or from $STRATA_BIN_DIR when set. It does not touch /run/strata or deploy/up.sh's stack.
set -euo pipefail
cd "$(dirname "$0")/.."

dir="${STRATA_DEMO_DIR:-/tmp/strata-multihost}"
nodes=(a b c)
layerstore_ips=(127.0.1.1 127.0.2.1)
imagegraph_ips=(127.0.11.1 127.0.12.1)
node_ip() { case "$1" in a) echo 127.0.21.1 ;; b) echo 127.0.22.1 ;; c) echo 127.0.23.1 ;; esac; }
pg_port=7440
join() { local IFS=,; echo "$*"; }
layerstore_target="ipv4:$(join "${layerstore_ips[@]/%/:7420}")"
imagegraph_target="ipv4:$(join "${imagegraph_ips[@]/%/:7421}")"
pki="$dir/pki"

usage() { sed -n '2,17p' "$0" >&2; exit 2; }

# The CLI's environment for node $1.
print_env() {
  local node="$1"
  [[ -n "$(node_ip "$node")" ]] || { echo "multihost-demo.sh: no node '$node' (a, b, c)" >&2; exit 2; }
  cat <<ENV
export STRATA_RUNTIME=$(node_ip "$node"):7422
export STRATA_GATEWAY=$(node_ip "$node"):7423
export STRATA_LAYERSTORE=$layerstore_target
export STRATA_IMAGEGRAPH=$imagegraph_target
export STRATA_TLS_CA=$pki/ca.crt
export STRATA_TLS_CERT=$pki/demo.crt
export STRATA_TLS_KEY=$pki/demo.key
export STRATA_TOKEN_FILE=$dir/token
export PATH=$bin:\$PATH
ENV
}

# start NAME COMMAND...: in the background, logging to logs/NAME.log; waits until it listens.
start() {
  local name="$1"
  shift
  setsid "$@" >"$dir/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$dir/run/$name.pid"
  for _ in $(seq 1 150); do
    grep -q "listening on" "$dir/logs/$name.log" 2>/dev/null && { echo "$name: $(grep -m1 -o 'listening on .*' "$dir/logs/$name.log")" >&2; return; }
    kill -0 "$(cat "$dir/run/$name.pid")" 2>/dev/null || break
    sleep 0.2
  done
  echo "multihost-demo.sh: $name did not start; its log ($dir/logs/$name.log):" >&2
  cat "$dir/logs/$name.log" >&2
  exit 1
}

tls_flags() {  # the server flags for certificate $1
  echo --tls-cert "$pki/$1.crt" --tls-key "$pki/$1.key" --tls-client-ca "$pki/ca.crt" \
    --auth-token-file "$dir/token"
}

find_bin() {
  if [[ -n "${STRATA_BIN_DIR:-}" ]]; then
    bin="$STRATA_BIN_DIR"
    return
  fi
  bin="$dir/bin"
}

up() {
  [[ $(id -u) == 0 ]] || { echo "multihost-demo.sh: run as root (mounts and runc need it)" >&2; exit 1; }
  [[ ! -e "$dir/run" ]] || { echo "multihost-demo.sh: $dir is in use: '$0 down' first" >&2; exit 1; }
  mkdir -p "$dir/logs" "$dir/run" "$dir/store"
  find_bin
  if [[ -z "${STRATA_BIN_DIR:-}" ]]; then
    echo "building..." >&2
    bazel build //services/layerstore:strata-layerstore //services/imagegraph:strata-imagegraph \
      //services/runtime:strata-runtime //services/runtime/monitor:strata-runtime-monitor \
      //cli:strata //cli/service:strata-gateway
    local bazel_bin
    bazel_bin=$(bazel info bazel-bin 2>/dev/null)
    mkdir -p "$bin"
    for binary in services/layerstore/strata-layerstore services/imagegraph/strata-imagegraph \
                  services/runtime/strata-runtime services/runtime/monitor/strata-runtime-monitor \
                  cli/strata cli/service/strata-gateway; do
      install -m 0755 "$bazel_bin/$binary" "$bin/"
    done
  fi

  # Certificates: one per service naming every replica's address (clients check each replica
  # of a list against its first address), one per node, one for the person at the CLI.
  deploy/certs.sh --dir "$pki" ca >/dev/null
  deploy/certs.sh --dir "$pki" server layerstore "${layerstore_ips[@]/#/IP:}" >/dev/null
  deploy/certs.sh --dir "$pki" server imagegraph "${imagegraph_ips[@]/#/IP:}" >/dev/null
  for node in "${nodes[@]}"; do
    deploy/certs.sh --dir "$pki" server "node-$node" "IP:$(node_ip "$node")" >/dev/null
  done
  deploy/certs.sh --dir "$pki" client demo >/dev/null
  (umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$dir/token")

  # PostgreSQL: a cluster of its own, on a unix socket only.
  local pg_bin
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  mkdir -p "$dir/postgres/data" "$dir/postgres/run"
  chown -R postgres:postgres "$dir/postgres"
  chmod 0700 "$dir/postgres/data"
  runuser -u postgres -- "$pg_bin/initdb" -D "$dir/postgres/data" -U postgres \
    --auth-local=trust -E UTF8 --locale=C >"$dir/logs/initdb.log" 2>&1
  printf "listen_addresses = ''\nport = %s\nunix_socket_directories = '%s'\n" \
    "$pg_port" "$dir/postgres/run" >>"$dir/postgres/data/postgresql.conf"
  runuser -u postgres -- "$pg_bin/pg_ctl" -D "$dir/postgres/data" -l "$dir/postgres/postgres.log" \
    -w -t 60 start >/dev/null
  local database="host=$dir/postgres/run port=$pg_port user=postgres dbname=postgres"

  for i in 0 1; do
    # shellcheck disable=SC2046
    start "layerstore-$i" "$bin/strata-layerstore" --listen "${layerstore_ips[$i]}:7420" \
      $(tls_flags layerstore) --root "$dir/store"
  done
  for i in 0 1; do
    # shellcheck disable=SC2046
    start "imagegraph-$i" "$bin/strata-imagegraph" --listen "${imagegraph_ips[$i]}:7421" \
      $(tls_flags imagegraph) --database "$database"
  done
  for node in "${nodes[@]}"; do
    local ip state="$dir/node-$node"
    ip=$(node_ip "$node")
    mkdir -p "$state"
    # The node's mount namespace, kept alive by a sleep; its tmpfs is the node's disk.
    setsid unshare --mount --propagation private /bin/sh -c \
      "mount -t tmpfs -o mode=0755 strata-node-$node $state && mkdir $state/root $state/run && exec sleep infinity" \
      </dev/null >"$dir/logs/namespace-$node.log" 2>&1 &
    echo $! >"$dir/run/namespace-$node.pid"
    for _ in $(seq 1 50); do
      nsenter -t "$(cat "$dir/run/namespace-$node.pid")" -m -- test -d "$state/run" 2>/dev/null && break
      sleep 0.1
    done
    # shellcheck disable=SC2046
    start "runtime-$node" nsenter -t "$(cat "$dir/run/namespace-$node.pid")" -m -- \
      "$bin/strata-runtime" --listen "$ip:7422" $(tls_flags "node-$node") \
      --root "$state/root" --run-dir "$state/run" --monitor "$bin/strata-runtime-monitor" \
      --layerstore "$layerstore_target" --layerstore-tls-ca "$pki/ca.crt" \
      --layerstore-tls-cert "$pki/node-$node.crt" --layerstore-tls-key "$pki/node-$node.key" \
      --layerstore-token-file "$dir/token"
    # shellcheck disable=SC2046
    start "gateway-$node" "$bin/strata-gateway" --listen "$ip:7423" $(tls_flags "node-$node") \
      --layerstore "$layerstore_target" --imagegraph "$imagegraph_target" --runtime "$ip:7422" \
      --services-tls-ca "$pki/ca.crt" --services-tls-cert "$pki/node-$node.crt" \
      --services-tls-key "$pki/node-$node.key" --services-token-file "$dir/token"
  done
  cat >&2 <<DONE

Up. Use node a, b or c from this shell:
  eval "\$($0 env a)"; strata status
Stop it all: $0 down
DONE
}

down() {
  find_bin
  if [[ -d "$dir/run" ]]; then
    # Containers first, on each node: their monitors and mounts would outlive the runtime.
    for node in "${nodes[@]}"; do
      [[ -f "$dir/run/runtime-$node.pid" ]] || continue
      (
        eval "$(print_env "$node")"
        for id in $(strata ps -aq --no-trunc 2>/dev/null); do strata rm -f "$id" >/dev/null || true; done
      )
    done
    for pid_file in "$dir"/run/gateway-*.pid "$dir"/run/runtime-*.pid "$dir"/run/imagegraph-*.pid \
                    "$dir"/run/layerstore-*.pid; do
      [[ -f "$pid_file" ]] && kill "$(cat "$pid_file")" 2>/dev/null || true
    done
    for pid_file in "$dir"/run/namespace-*.pid; do
      [[ -f "$pid_file" ]] || continue
      local holder ns
      holder=$(cat "$pid_file")
      ns=$(readlink "/proc/$holder/ns/mnt" 2>/dev/null) || continue
      # Whatever still runs in the node's namespace (a monitor), then the namespace itself.
      for proc in /proc/[0-9]*; do
        [[ "$(readlink "$proc/ns/mnt" 2>/dev/null)" == "$ns" ]] && kill -9 "${proc#/proc/}" 2>/dev/null || true
      done
    done
    local pg_bin
    pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    if [[ -f "$dir/postgres/data/postmaster.pid" ]]; then
      runuser -u postgres -- "$pg_bin/pg_ctl" -D "$dir/postgres/data" -m fast -w stop >/dev/null || true
    fi
    sleep 0.5
  fi
  rm -rf "$dir"
  echo "down: $dir removed" >&2
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  env) find_bin; print_env "${2:-a}" ;;
  *) usage ;;
esac
