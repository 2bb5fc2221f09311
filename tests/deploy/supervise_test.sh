#!/usr/bin/env bash
# A supervised dummy service killed with SIGSEGV comes back (logged, after the backoff); one
# that exits 0 is not restarted; SIGTERM to the supervisor stops both, with no restart.
set -euo pipefail

supervise="${TEST_SRCDIR:-.}/${TEST_WORKSPACE:-strata}/deploy/supervise.sh"
[[ -x "$supervise" ]] || supervise="$(dirname "$0")/../../deploy/supervise.sh"
work=$(mktemp -d "${TEST_TMPDIR:-/tmp}/supervise.XXXXXX")
supervisor=""
cleanup() {
  if [[ -n "$supervisor" ]]; then kill -KILL "$supervisor" 2>/dev/null || true; fi
  if [[ -f "$work/pid" ]]; then kill -KILL "$(cat "$work/pid")" 2>/dev/null || true; fi
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  echo "--- supervisor log:" >&2
  cat "$work/log" >&2 || true
  exit 1
}

# wait_for SECONDS COMMAND...: until COMMAND succeeds.
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.05
  done
}

pid_is_not() { [[ -s "$work/pid" && "$(cat "$work/pid")" != "$1" ]]; }
gone() { ! kill -0 "$1" 2>/dev/null; }
lines_at_least() { [[ -f "$1" && "$(wc -l <"$1")" -ge "$2" ]]; }

export SUPERVISE_MIN_BACKOFF=0.2 SUPERVISE_MAX_BACKOFF=1
# The dummy service counts its starts and sleeps.
"$supervise" dummy "$work/pid" -- bash -c 'echo start >>"$0"; exec sleep 1000' "$work/starts" \
  >>"$work/log" 2>&1 &
supervisor=$!

wait_for 10 test -s "$work/pid" || fail "no pid file"
first=$(cat "$work/pid")
wait_for 10 test -s "$work/starts" || fail "the service did not start"
kill -SEGV "$first"
wait_for 10 pid_is_not "$first" || fail "not restarted after SIGSEGV"
second=$(cat "$work/pid")
kill -0 "$second" || fail "the restarted service is not running"
wait_for 10 lines_at_least "$work/starts" 2 || fail "expected 2 starts"
grep -q "dummy was killed by SIGSEGV" "$work/log" || fail "the crash is not logged"
grep -q "restarting dummy in 0.2s" "$work/log" || fail "the restart is not logged"

# A second crash waits twice as long.
kill -SEGV "$second"
wait_for 10 pid_is_not "$second" || fail "not restarted after a second SIGSEGV"
grep -q "restarting dummy in 0.4s" "$work/log" || fail "no backoff"
third=$(cat "$work/pid")

# Stopping the supervisor stops the service, and nothing comes back.
kill -TERM "$supervisor"
wait_for 10 gone "$supervisor" || fail "the supervisor did not stop"
wait_for 10 gone "$third" || fail "the service outlived its supervisor"
supervisor=""
sleep 0.5
[[ "$(wc -l <"$work/starts")" -eq 3 ]] || fail "restarted after a stop"
[[ ! -e "$work/pid" ]] || fail "the pid file is left behind"

# A clean exit (status 0) is not restarted.
"$supervise" once "$work/pid" -- bash -c 'echo start >>"$0"; exit 0' "$work/once" \
  >>"$work/log" 2>&1 &
supervisor=$!
wait_for 10 gone "$supervisor" || fail "the supervisor of a clean exit did not end"
supervisor=""
[[ "$(wc -l <"$work/once")" -eq 1 ]] || fail "a clean exit was restarted"
grep -q "once exited with status 0: not restarting" "$work/log" || fail "clean exit not logged"

# A failing exit status is restarted too.
"$supervise" failing "$work/pid" -- bash -c 'echo start >>"$0"; exit 3' "$work/failing" \
  >>"$work/log" 2>&1 &
supervisor=$!
wait_for 10 lines_at_least "$work/failing" 2 || fail "a non-zero exit was not restarted"
grep -q "failing exited with status 3" "$work/log" || fail "the exit status is not logged"
kill -TERM "$supervisor"
wait_for 10 gone "$supervisor" || fail "the supervisor did not stop"
supervisor=""
echo PASS
