#!/bin/bash
# Runs docs/examples/subprocess (the samples of docs/subprocess.md) and checks
# what it prints.
set -euo pipefail
cd "${TEST_SRCDIR}/${TEST_WORKSPACE}"

expected="10 commands, at most 3 at a time: 0 1 4 9 16 25 36 49 64 81
child says: fetch
child says: build
child says: test
child exited with 0
sort printed:
apple
banana
cherry
timed out, killed: returncode -9
timed out, then killed: returncode -9
errno 2: create_subprocess_exec: 'no-such-program': No such file or directory"
output=$(docs/examples/subprocess)
if [[ "$output" != "$expected" ]]; then
  echo "FAIL: subprocess printed:" >&2
  echo "$output" >&2
  echo "expected:" >&2
  echo "$expected" >&2
  exit 1
fi
echo "PASS"
