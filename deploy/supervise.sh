#!/usr/bin/env bash
# supervise.sh NAME PID_FILE -- COMMAND [ARG...]
#
# Keeps one service running for up.sh's single-host mode, as Restart=on-failure does under
# systemd: runs COMMAND, writes its pid to PID_FILE, and when it dies of a signal or exits
# non-zero, logs why (to stderr: up.sh sends it to the service's log) and starts it again
# after a pause that doubles from SUPERVISE_MIN_BACKOFF (1 s) up to SUPERVISE_MAX_BACKOFF
# (30 s), back to the minimum once a run lasted SUPERVISE_STABLE_SECONDS (60 s). An exit with
# status 0 ends supervision. SIGTERM or SIGINT to the supervisor stop the service (SIGTERM,
# passed on) and the supervisor, without a restart: that is how down.sh stops it.
set -uo pipefail

main() {
  if [[ $# -lt 4 || "$3" != "--" ]]; then
    echo "usage: supervise.sh NAME PID_FILE -- COMMAND [ARG...]" >&2
    exit 2
  fi
  local name="$1" pid_file="$2"
  shift 3
  local min_backoff="${SUPERVISE_MIN_BACKOFF:-1}" max_backoff="${SUPERVISE_MAX_BACKOFF:-30}"
  local stable_seconds="${SUPERVISE_STABLE_SECONDS:-60}"
  local backoff="$min_backoff" child="" sleeper="" stopping=0 status started

  stop() {
    stopping=1
    if [[ -n "$child" ]]; then kill -TERM "$child" 2>/dev/null; fi
    if [[ -n "$sleeper" ]]; then kill -TERM "$sleeper" 2>/dev/null; fi
  }
  trap stop TERM INT

  while ((!stopping)); do
    started=$SECONDS
    "$@" &
    child=$!
    echo "$child" >"$pid_file"
    # wait returns early when a trapped signal arrives: wait again until the child is gone.
    while :; do
      wait "$child"
      status=$?
      kill -0 "$child" 2>/dev/null || break
    done
    child=""
    if ((stopping)); then
      break
    fi
    if ((status == 0)); then
      log "$name exited with status 0: not restarting"
      break
    fi
    if ((status > 128)); then
      log "$name was killed by SIG$(kill -l $((status - 128)) 2>/dev/null || echo $((status - 128)))"
    else
      log "$name exited with status $status"
    fi
    if ((SECONDS - started >= stable_seconds)); then backoff="$min_backoff"; fi
    log "restarting $name in ${backoff}s"
    sleep "$backoff" &
    sleeper=$!
    wait "$sleeper" 2>/dev/null
    sleeper=""
    backoff=$(awk -v b="$backoff" -v m="$max_backoff" 'BEGIN { b *= 2; print (b > m ? m : b) }')
  done
  rm -f "$pid_file"
}

log() {
  echo "$(date '+%Y-%m-%dT%H:%M:%S%z') supervise: $*" >&2
}

# All of it in functions: bash has parsed the whole file before it runs, so replacing the
# file (a new checkout) while a supervisor runs cannot change what that supervisor does.
main "$@"
