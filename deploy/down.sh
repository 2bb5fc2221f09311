#!/usr/bin/env bash
# Stops what up.sh started: the gateway and the three services (SIGTERM, then SIGKILL after
# 15 s) and the private PostgreSQL cluster. Containers keep running under their monitors; their
# state stays in the runtime's directory for the next start.
set -euo pipefail
cd "$(dirname "$0")/.."
source deploy/common.sh

for name in gateway runtime imagegraph layerstore; do
  # The supervisor first, so that it does not restart what is stopped below: on SIGTERM it
  # passes the signal on to the service, waits for it and exits.
  supervisor_file="$pid_dir/$name.supervisor.pid"
  if supervisor_alive "$supervisor_file"; then
    supervisor=$(cat "$supervisor_file")
    kill -TERM "$supervisor"
    for _ in $(seq 1 150); do
      kill -0 "$supervisor" 2>/dev/null || break
      sleep 0.1
    done
  fi
  rm -f "$supervisor_file"
  pid_file="$pid_dir/$name.pid"
  if pid_alive "$pid_file" "$name"; then
    pid=$(cat "$pid_file")
    kill -TERM "$pid"
    for _ in $(seq 1 150); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      echo "$name: did not stop in 15 s, killing" >&2
      kill -KILL "$pid" || true
    fi
    echo "$name: stopped" >&2
  fi
  rm -f "$pid_file"
done

if [[ -f "$pg_dir/data/PG_VERSION" ]]; then
  pg_bin=$(pg_bin_dir)
  if as_postgres "$pg_bin/pg_ctl" -D "$pg_dir/data" status >/dev/null 2>&1; then
    as_postgres "$pg_bin/pg_ctl" -D "$pg_dir/data" -m fast -w stop >/dev/null
    echo "postgres: stopped" >&2
  fi
fi
