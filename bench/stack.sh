# Sourced by the benchmark scripts: a private single-node stack (deploy/up.sh with its own
# state directory and ports, so it never touches the default one), and a busybox root file
# system to make images from.

BENCH_STATE_DIR="${BENCH_STATE_DIR:-/var/tmp/strata-bench}"
export STRATA_STATE_DIR="$BENCH_STATE_DIR/state"
export STRATA_BIN_DIR="$BENCH_STATE_DIR/bin"
# Unix sockets of its own (the default socket directory is the shared stack's) and a port of
# its own for PostgreSQL.
export STRATA_SOCKET_DIR="$BENCH_STATE_DIR/sock"
export STRATA_PG_PORT=${BENCH_PG_PORT:-7530}
for name in layerstore imagegraph runtime gateway; do
  upper=${name^^}
  export "STRATA_${upper}_LISTEN=unix:$STRATA_SOCKET_DIR/$name.sock"
  export "STRATA_${upper}=unix:$STRATA_SOCKET_DIR/$name.sock"
done
strata="$STRATA_BIN_DIR/strata"

start_stack() {
  deploy/up.sh >"$BENCH_STATE_DIR.up.log" 2>&1 || { cat "$BENCH_STATE_DIR.up.log"; return 1; }
}

stop_stack() {
  for id in $("$strata" ps -aq --no-trunc 2>/dev/null); do "$strata" rm -f "$id" >/dev/null 2>&1 || true; done
  deploy/down.sh >/dev/null 2>&1 || true
}

# busybox_rootfs DIR: Debian's static busybox with its applets, /etc/passwd and /etc/group.
busybox_rootfs() {
  local dir="$1"
  mkdir -p "$dir"/{bin,etc,root,tmp,var}
  chmod 1777 "$dir/tmp"
  cp /bin/busybox "$dir/bin/busybox"
  for applet in $(/bin/busybox --list); do
    [[ -e "$dir/bin/$applet" ]] || ln -s busybox "$dir/bin/$applet"
  done
  echo 'root:x:0:0:root:/root:/bin/sh' >"$dir/etc/passwd"
  echo 'root:x:0:' >"$dir/etc/group"
}

# now_ns / elapsed_ms START: wall-clock timing.
now_ns() { date +%s%N; }
elapsed_ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

# median of the numbers given as arguments
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

podman_run=(podman run --runtime runc --ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
