#!/usr/bin/env bash
# Every C++ sample in a public header's comments has a compiled copy under
# docs/examples/header_samples (header_samples_check.py says how they are
# matched), and the checker catches a sample without one in a tree made to
# contain it.
set -euo pipefail
check=tools/build_checks/header_samples_check.py

python3 "$check" .

root=tools/build_checks/testdata/header_samples
set +e
output=$(python3 "$check" "$root" async/good.h async/bad.h)
status=$?
set -e
echo "$output"
if ((status != 1)); then
  echo "FAIL: the checker exited $status on a header whose sample has no copy (expected 1)"
  exit 1
fi
expect() {
  grep -qF -- "$1" <<<"$output" || { echo "FAIL: not reported: $1"; exit 1; }
}
expect "async/bad.h:3: this sample has no compiled copy in a '// [async/bad.h]' region"
expect "2 samples checked, 1 without a compiled copy"
if grep -q 'async/good.h' <<<"$output"; then echo "FAIL: a sample with its copy was reported"; exit 1; fi
echo "PASS"
