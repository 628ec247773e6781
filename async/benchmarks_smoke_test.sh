#!/bin/bash
# Runs each benchmark binary given as an argument for a moment (the million-task
# benchmark excepted: too slow under sanitizers), so a benchmark that no longer
# builds or crashes fails the tests.
set -euo pipefail
for benchmark in "$@"; do
  "$benchmark" --benchmark_min_time=0.001 --benchmark_filter='-BM_Million.*' >/dev/null
done
echo "PASS"
