#!/usr/bin/env bash
# Runs every test: installs what is missing (Debian packages, apt-get update first), runs
# `bazel test //...`, and ends with one line "N passed, N failed" counting test cases
# (a test target that failed to build or run without reporting cases counts as one failure).
# Extra arguments go to bazel test (e.g. a narrower target pattern).
set -uo pipefail
cd "$(dirname "$0")/.."

if [[ $(id -u) != 0 ]]; then
  echo "run-all.sh: run as root (tests mount overlayfs and run runc)" >&2
  echo "0 passed, 1 failed"
  exit 1
fi
deploy/install-deps.sh --test || { echo "0 passed, 1 failed"; exit 1; }

targets=("$@")
((${#targets[@]})) || targets=(//...)
log=$(mktemp /tmp/strata-test.XXXXXX.log)
bazel test --test_summary=short --test_output=errors "${targets[@]}" 2>&1 | tee "$log"
bazel_rc=${PIPESTATUS[0]}

testlogs=$(bazel info bazel-testlogs 2>/dev/null)
/usr/bin/python3 - "$log" "$testlogs" "$bazel_rc" <<'PY'
import os, re, sys
import xml.etree.ElementTree as ET

log_path, testlogs, bazel_rc = sys.argv[1], sys.argv[2], int(sys.argv[3])
passed = failed = 0
status_line = re.compile(r"^(//\S+)\s+(?:\(cached\) )?(PASSED|FAILED|TIMEOUT|FLAKY|NO STATUS|"
                         r"FAILED TO BUILD|INCOMPLETE|SKIPPED)")
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
print("%d passed, %d failed" % (passed, failed))
sys.exit(0 if failed == 0 and bazel_rc == 0 else 1)
PY
