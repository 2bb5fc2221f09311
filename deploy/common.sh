# Shared by up.sh and down.sh: where things live. Every path can be overridden from the
# environment.
STRATA_STATE_DIR="${STRATA_STATE_DIR:-/var/lib/strata}"
STRATA_BIN_DIR="${STRATA_BIN_DIR:-/usr/local/bin}"
STRATA_PG_PORT="${STRATA_PG_PORT:-7430}"
# One host: unix sockets, mode 0660, root and the strata group (TCP needs TLS; see
# deploy/README.md for several hosts).
STRATA_SOCKET_DIR="${STRATA_SOCKET_DIR:-/run/strata}"
STRATA_LAYERSTORE_LISTEN="${STRATA_LAYERSTORE_LISTEN:-unix:$STRATA_SOCKET_DIR/layerstore.sock}"
STRATA_IMAGEGRAPH_LISTEN="${STRATA_IMAGEGRAPH_LISTEN:-unix:$STRATA_SOCKET_DIR/imagegraph.sock}"
STRATA_RUNTIME_LISTEN="${STRATA_RUNTIME_LISTEN:-unix:$STRATA_SOCKET_DIR/runtime.sock}"
STRATA_GATEWAY_LISTEN="${STRATA_GATEWAY_LISTEN:-unix:$STRATA_SOCKET_DIR/gateway.sock}"

pg_dir="$STRATA_STATE_DIR/postgres"
pg_socket_dir="$pg_dir/run"
log_dir="$STRATA_STATE_DIR/logs"
pid_dir="$STRATA_STATE_DIR/run"
services=(layerstore imagegraph runtime gateway)

# The PostgreSQL binaries of the cluster's version (a newer major cannot run its data
# directory), or the newest installed before the cluster exists.
pg_bin_dir() {
  local dir
  if [[ -f "$pg_dir/data/PG_VERSION" ]]; then
    dir="/usr/lib/postgresql/$(cat "$pg_dir/data/PG_VERSION")/bin"
  else
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  fi
  [[ -n "$dir" && -x "$dir/pg_ctl" ]] || { echo "PostgreSQL is not installed" >&2; return 1; }
  echo "$dir"
}

as_postgres() {
  (cd / && runuser -u postgres -- "$@")
}

# pid_alive PID_FILE NAME: the pid file's process is alive and is strata-NAME (after a reboot
# the number may belong to anything else).
pid_alive() {
  local pid_file="$1" name="$2" pid exe
  [[ -f "$pid_file" ]] || return 1
  pid=$(cat "$pid_file")
  kill -0 "$pid" 2>/dev/null || return 1
  exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
  [[ "$(basename "${exe% (deleted)}")" == "strata-$name" ]]
}

# supervisor_alive PID_FILE: the pid file's process is alive and is deploy/supervise.sh.
supervisor_alive() {
  local pid_file="$1" pid
  [[ -f "$pid_file" ]] || return 1
  pid=$(cat "$pid_file")
  kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'supervise\.sh'
}
