#!/usr/bin/env bash
# Runs every test: installs what is missing (Debian packages, apt-get update first), runs
# `bazel test //...`, and ends with one line "N passed, N failed" counting test cases
# (a test target that failed to build or run without reporting cases counts as one failure).
# Extra arguments go to bazel test (e.g. a narrower target pattern).
# A full run (no arguments) also runs, each in a Bazel output base of its own so the normal
# build's cache stays valid:
#   - the library and service core tests built with ASan + UBSan (--config=asan; skip with
#     STRATA_ASAN=0), counted like the others;
#   - each libFuzzer target for STRATA_FUZZ_SECONDS (20; 0 skips), one case per target.
set -uo pipefail
cd "$(dirname "$0")/.."

if [[ $(id -u) != 0 ]]; then
  echo "run-all.sh: run as root (tests mount overlayfs and run runc)" >&2
  echo "0 passed, 1 failed"
  exit 1
fi
deploy/install-deps.sh --test || { echo "0 passed, 1 failed"; exit 1; }

targets=("$@")
full_run=1
((${#targets[@]})) && full_run=0
((${#targets[@]})) || targets=(//...)
log=$(mktemp /tmp/strata-test.XXXXXX.log)
bazel test --test_summary=short --test_output=errors "${targets[@]}" 2>&1 | tee "$log"
bazel_rc=${PIPESTATUS[0]}
testlogs=$(bazel info bazel-testlogs 2>/dev/null)
phases=("$log" "$testlogs" "$bazel_rc")

if ((full_run)) && [[ "${STRATA_ASAN:-1}" != 0 ]]; then
  asan_base=/root/.cache/strata-asan-base
  asan_log=$(mktemp /tmp/strata-asan.XXXXXX.log)
  # The unit tests of lib/ and of the service cores (no gRPC servers, no e2e stacks; not the
  # S3 store's, which spends its time in the Swift server it starts).
  asan_targets=$(bazel query 'kind(cc_test, //lib/... + //services/layerstore/core/... +
      //services/imagegraph/core/... + //services/runtime/core/... + //cli/core/... +
      //fuzz/...) except //services/layerstore/core:s3_blob_store_test' 2>/dev/null)
  start=$SECONDS
  # shellcheck disable=SC2086
  # Allocations libpqxx keeps for the life of a process are not our leaks (bazel/lsan.supp).
  # --symlink_prefix=/: no bazel-* links into this output base, or the next plain build of
  # //... would walk them as source packages.
  bazel --output_base="$asan_base" test --config=asan --symlink_prefix=/ --test_summary=short \
    --test_env=LSAN_OPTIONS=suppressions="$PWD/bazel/lsan.supp" \
    --test_output=errors $asan_targets 2>&1 | tee "$asan_log"
  asan_rc=${PIPESTATUS[0]}
  echo "asan: $((SECONDS - start)) s"
  phases+=("$asan_log" "$(bazel --output_base="$asan_base" info --config=asan \
    bazel-testlogs 2>/dev/null)" "$asan_rc")
fi

fuzz_results=/dev/null
if ((full_run)) && [[ "${STRATA_FUZZ_SECONDS:-20}" != 0 ]]; then
  fuzz_results=$(mktemp /tmp/strata-fuzz.XXXXXX.txt)
  start=$SECONDS
  fuzz/run.sh "${STRATA_FUZZ_SECONDS:-20}" | tee "$fuzz_results"
  echo "fuzz: $((SECONDS - start)) s"
fi

/usr/bin/python3 - "$fuzz_results" "${phases[@]}" <<'PY'
import os, re, sys
import xml.etree.ElementTree as ET

status_line = re.compile(r"^(//\S+)\s+(?:\(cached\) )?(PASSED|FAILED|TIMEOUT|FLAKY|NO STATUS|"
                         r"FAILED TO BUILD|INCOMPLETE|SKIPPED)")

def count(log_path, testlogs, bazel_rc):
    passed = failed = 0
    for line in open(log_path, errors="replace"):
        m = status_line.match(line)
        if not m:
            continue
        target, status = m.groups()
        package, _, name = target[2:].partition(":")
        xml_path = os.path.join(testlogs, package, name, "test.xml")
        cases = case_failures = 0
        if status in ("PASSED", "FAILED", "FLAKY", "TIMEOUT") and os.path.exists(xml_path):
            try:
                for case in ET.parse(xml_path).getroot().iter("testcase"):
                    # Skipped cases (podman absent, say) ran nothing: not counted either way.
                    if case.get("status") == "notrun" or case.find("skipped") is not None:
                        continue
                    cases += 1
                    if case.find("failure") is not None or case.find("error") is not None:
                        case_failures += 1
            except ET.ParseError:
                cases = 0
        if cases and status == "PASSED":
            passed += cases - case_failures
            failed += case_failures
        elif cases:
            passed += cases - max(case_failures, 1)
            failed += max(case_failures, 1)
        elif status == "PASSED":
            passed += 1
        elif status != "SKIPPED":
            failed += 1
    if bazel_rc != 0 and failed == 0:
        failed = 1  # the build itself failed
    return passed, failed

passed = failed = 0
fuzz_results, phases = sys.argv[1], sys.argv[2:]
for i in range(0, len(phases), 3):
    p, f = count(phases[i], phases[i + 1], int(phases[i + 2]))
    passed += p
    failed += f
# fuzz/run.sh: one line per target, "fuzz/<target> PASSED|FAILED ...".
fuzz_lines = [l.split() for l in open(fuzz_results) if l.startswith("fuzz/")]
passed += sum(1 for l in fuzz_lines if len(l) > 1 and l[1] == "PASSED")
failed += sum(1 for l in fuzz_lines if len(l) < 2 or l[1] != "PASSED")
if fuzz_results != "/dev/null" and not fuzz_lines:
    failed += 1  # fuzz/run.sh printed nothing: it could not run
print("%d passed, %d failed" % (passed, failed))
sys.exit(0 if failed == 0 else 1)
PY
