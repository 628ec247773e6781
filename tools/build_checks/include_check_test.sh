#!/usr/bin/env bash
# aio's own packages must be layering-clean, and the checker must catch each
# kind of mistake in a tree made to contain them.
set -euo pipefail
check=tools/build_checks/include_check.py

python3 "$check" . "" async sync net subprocess tools/benchmarking tools/http tools/loadgen tools/repl \
  tools/static_server docs/examples docs/examples/header_samples

set +e
output=$(python3 "$check" tools/build_checks/testdata/bad lib app)
status=$?
set -e
echo "$output"
if ((status != 1)); then
  echo "FAIL: the checker exited $status on a tree with layering mistakes (expected 1)"
  exit 1
fi
expect() {
  grep -qF -- "$1" <<<"$output" || { echo "FAIL: not reported: $1"; exit 1; }
}
# app.cc includes lib/base.h, a header of //lib:base, which //app:app does not depend on.
expect 'app/app.cc (in //app:app) includes "lib/base.h", which belongs to //lib:base, not a dependency of //app:app'
# app.h is public and includes an internal header of //lib that is not exported to //app.
expect 'public header app/app.h includes lib/internal/secret.h, an internal header of //lib that is not exported to //app'
# The direct dependency and the system header are fine.
if grep -q 'lib/top.h\|<vector>' <<<"$output"; then echo "FAIL: a correct include was reported"; exit 1; fi
echo "PASS"
