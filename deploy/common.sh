# Shared by up.sh and down.sh: where things live. Every path can be overridden from the
# environment.
STRATA_STATE_DIR="${STRATA_STATE_DIR:-/var/lib/strata}"
STRATA_BIN_DIR="${STRATA_BIN_DIR:-/usr/local/bin}"
STRATA_PG_PORT="${STRATA_PG_PORT:-7430}"
STRATA_LAYERSTORE_LISTEN="${STRATA_LAYERSTORE_LISTEN:-127.0.0.1:7420}"
STRATA_IMAGEGRAPH_LISTEN="${STRATA_IMAGEGRAPH_LISTEN:-127.0.0.1:7421}"
STRATA_RUNTIME_LISTEN="${STRATA_RUNTIME_LISTEN:-127.0.0.1:7422}"

pg_dir="$STRATA_STATE_DIR/postgres"
pg_socket_dir="$pg_dir/run"
log_dir="$STRATA_STATE_DIR/logs"
pid_dir="$STRATA_STATE_DIR/run"
services=(layerstore imagegraph runtime)

pg_bin_dir() {
  local newest
  newest=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [[ -n "$newest" ]] || { echo "PostgreSQL is not installed" >&2; return 1; }
  echo "$newest"
}

as_postgres() {
  (cd / && runuser -u postgres -- "$@")
}

pid_alive() {
  local pid_file="$1"
  [[ -f "$pid_file" ]] && kill -0 "$(cat "$pid_file")" 2>/dev/null
}
