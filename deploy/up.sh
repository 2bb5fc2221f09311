#!/usr/bin/env bash
# Brings up a single-node Strata: installs what is missing, builds, creates and starts a
# private PostgreSQL cluster under the state directory (unix socket and loopback only),
# starts the three services and the gateway in the background (logs and pid files under the
# state directory) and waits until `strata status` reports all four SERVING.
# Running it again is harmless: what already runs is left alone. deploy/down.sh stops it all.
set -euo pipefail
cd "$(dirname "$0")/.."
source deploy/common.sh

[[ $(id -u) == 0 ]] || { echo "up.sh: run as root (mounts and runc need it)" >&2; exit 1; }

deploy/install-deps.sh

echo "building..." >&2
bazel build //services/layerstore:strata-layerstore //services/imagegraph:strata-imagegraph \
  //services/runtime:strata-runtime //services/runtime/monitor:strata-runtime-monitor //cli:strata \
  //cli/service:strata-gateway
bazel_bin=$(bazel info bazel-bin 2>/dev/null)
mkdir -p "$STRATA_BIN_DIR"
for binary in services/layerstore/strata-layerstore services/imagegraph/strata-imagegraph \
              services/runtime/strata-runtime services/runtime/monitor/strata-runtime-monitor \
              cli/strata cli/service/strata-gateway; do
  # Replace by rename, so a running binary is never overwritten in place.
  install -m 0755 "$bazel_bin/$binary" "$STRATA_BIN_DIR/.$(basename "$binary").new"
  mv -f "$STRATA_BIN_DIR/.$(basename "$binary").new" "$STRATA_BIN_DIR/$(basename "$binary")"
done

mkdir -p "$STRATA_STATE_DIR" "$log_dir" "$pid_dir"

# PostgreSQL: a cluster of our own, owned by the postgres system user.
pg_bin=$(pg_bin_dir)
if [[ ! -f "$pg_dir/data/PG_VERSION" ]]; then
  echo "creating the PostgreSQL cluster in $pg_dir/data" >&2
  mkdir -p "$pg_dir/data" "$pg_socket_dir"
  chown -R postgres:postgres "$pg_dir"
  chmod 0700 "$pg_dir/data"
  as_postgres "$pg_bin/initdb" -D "$pg_dir/data" -U postgres --auth-local=trust \
    --auth-host=scram-sha-256 -E UTF8 --locale=C >"$log_dir/initdb.log"
  cat >>"$pg_dir/data/postgresql.conf" <<CONF
# Strata: loopback and a private socket only.
listen_addresses = '127.0.0.1'
port = $STRATA_PG_PORT
unix_socket_directories = '$pg_socket_dir'
# Local logins are trusted: only root and postgres may reach the socket.
unix_socket_permissions = 0700
max_connections = 200
CONF
fi
mkdir -p "$pg_socket_dir"
chown postgres:postgres "$pg_socket_dir"
chmod 0700 "$pg_socket_dir"
if ! as_postgres "$pg_bin/pg_ctl" -D "$pg_dir/data" status >/dev/null 2>&1; then
  as_postgres "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/postgres.log" -w -t 60 start \
    >/dev/null
fi
psql_admin() {
  "$pg_bin/psql" -h "$pg_socket_dir" -p "$STRATA_PG_PORT" -U postgres -d postgres -qtA "$@"
}
if [[ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = 'strata'")" != "1" ]]; then
  psql_admin -c "CREATE ROLE strata LOGIN"
fi
if [[ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = 'strata'")" != "1" ]]; then
  psql_admin -c "CREATE DATABASE strata OWNER strata"
fi
database="host=$pg_socket_dir port=$STRATA_PG_PORT user=strata dbname=strata"

# Who may use the sockets: root and the members of this group (docker's `docker` group).
getent group strata >/dev/null || groupadd --system strata
mkdir -p "$STRATA_SOCKET_DIR"
chgrp strata "$STRATA_SOCKET_DIR"
chmod 0750 "$STRATA_SOCKET_DIR"

start_service() {
  local name="$1"
  shift
  local pid_file="$pid_dir/$name.pid"
  if supervisor_alive "$pid_dir/$name.supervisor.pid" || pid_alive "$pid_file" "$name"; then
    echo "$name: already running (pid $(cat "$pid_file" 2>/dev/null))" >&2
    return
  fi
  # Under deploy/supervise.sh, which restarts the service when it crashes (with backoff,
  # logged to the service's log) and writes its current pid to the pid file.
  setsid "$PWD/deploy/supervise.sh" "$name" "$pid_file" -- "$@" \
    >>"$log_dir/$name.log" 2>&1 </dev/null &
  echo $! >"$pid_dir/$name.supervisor.pid"
  for _ in $(seq 1 50); do
    [[ -s "$pid_file" ]] && break
    sleep 0.1
  done
  echo "$name: started (pid $(cat "$pid_file" 2>/dev/null), supervisor $!, log $log_dir/$name.log)" >&2
}

start_service imagegraph "$STRATA_BIN_DIR/strata-imagegraph" \
  --listen "$STRATA_IMAGEGRAPH_LISTEN" --database "$database"
# layerstore asks imagegraph which blobs images need when it collects garbage (prune).
start_service layerstore "$STRATA_BIN_DIR/strata-layerstore" \
  --listen "$STRATA_LAYERSTORE_LISTEN" --root "$STRATA_STATE_DIR/layerstore" \
  --gc-imagegraph "$STRATA_IMAGEGRAPH_LISTEN"
start_service runtime "$STRATA_BIN_DIR/strata-runtime" \
  --listen "$STRATA_RUNTIME_LISTEN" --root "$STRATA_STATE_DIR/runtime" \
  --layerstore "$STRATA_LAYERSTORE_LISTEN"
start_service gateway "$STRATA_BIN_DIR/strata-gateway" \
  --listen "$STRATA_GATEWAY_LISTEN" --layerstore "$STRATA_LAYERSTORE_LISTEN" \
  --imagegraph "$STRATA_IMAGEGRAPH_LISTEN" --runtime "$STRATA_RUNTIME_LISTEN"

export STRATA_LAYERSTORE="$STRATA_LAYERSTORE_LISTEN" STRATA_IMAGEGRAPH="$STRATA_IMAGEGRAPH_LISTEN" \
  STRATA_RUNTIME="$STRATA_RUNTIME_LISTEN" STRATA_GATEWAY="$STRATA_GATEWAY_LISTEN"
for _ in $(seq 1 120); do
  if "$STRATA_BIN_DIR/strata" status >/dev/null 2>&1; then
    "$STRATA_BIN_DIR/strata" status
    exit 0
  fi
  sleep 0.5
done
"$STRATA_BIN_DIR/strata" status || true
echo "up.sh: the services did not all report SERVING within 60 s; logs in $log_dir" >&2
exit 1
