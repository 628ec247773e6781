#!/bin/bash
# Runs the subprocess benchmark on a few children, so that a benchmark that no
# longer builds or crashes fails the tests (the figures come from `bazel run`).
set -euo pipefail
output=$("$1" 20 1)
grep -q "^median" <<<"$output" || { echo "FAIL: no median line in:"; echo "$output"; exit 1; }
echo "PASS"
