#!/usr/bin/env bash
# Builds the libFuzzer targets (clang-14, ASan + UBSan) in an output base of their own, so the
# normal build's cache stays valid, and runs each for a bounded time from its seed corpus.
#   fuzz/run.sh [SECONDS] [TARGET...]   (default 20 s each, every target)
# Prints one line per target, "fuzz/<target> PASSED" or "fuzz/<target> FAILED", and exits
# non-zero when one failed. A crashing input is left in fuzz/findings/<target>/: fix the
# bug, then move the input into fuzz/corpus/<corpus>/ so the _replay test keeps checking it.
set -uo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-${STRATA_FUZZ_SECONDS:-20}}
shift || true
targets=("$@")
((${#targets[@]})) || targets=(layer_fuzzer reference_fuzzer image_config_fuzzer changes_fuzzer)
declare -A corpus=([layer_fuzzer]=layer [reference_fuzzer]=reference
                   [image_config_fuzzer]=image_config [changes_fuzzer]=changes)
output_base=${STRATA_FUZZ_OUTPUT_BASE:-/root/.cache/strata-fuzz-base}

labels=()
for target in "${targets[@]}"; do labels+=("//fuzz:$target"); done
if ! bazel --output_base="$output_base" build --config=fuzz --symlink_prefix=/ "${labels[@]}" >&2; then
  for target in "${targets[@]}"; do echo "fuzz/$target FAILED (build)"; done
  exit 1
fi
bin=$(bazel --output_base="$output_base" info --config=fuzz bazel-bin 2>/dev/null)

failed=0
for target in "${targets[@]}"; do
  work=$(mktemp -d /tmp/strata-fuzz-"$target".XXXXXX)
  findings=fuzz/findings/$target
  mkdir -p "$findings"
  # New inputs go to a scratch corpus; the seeds in the repository are only read.
  if "$bin/fuzz/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="$findings/" "$work" "fuzz/corpus/${corpus[$target]}" \
      >"$work.log" 2>&1; then
    echo "fuzz/$target PASSED ($(grep -o 'cov: [0-9]*' "$work.log" | tail -1))"
    rmdir "$findings" 2>/dev/null
  else
    echo "fuzz/$target FAILED (log: $work.log, input in $findings/)"
    grep -A15 "ERROR: \|==ERROR\|runtime error" "$work.log" | head -30 >&2
    failed=1
  fi
  rm -rf "$work"
done
exit $failed
