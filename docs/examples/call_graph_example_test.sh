#!/bin/bash
# Runs docs/examples/call_graph and checks what it prints (task ids masked).
set -euo pipefail
cd "${TEST_SRCDIR}/${TEST_WORKSPACE}"
expected="* Task(name='worker-2', id=0x?)
  + Call stack:
  |   Queue.get
  + Awaited by:
    * Task(name='pool', id=0x?)
      + Call stack:
      |   gather
Task-1: running
pool: waiting gather
ticker: waiting sleep
worker-1: waiting Queue.get
worker-2: waiting Queue.get"
output=$(docs/examples/call_graph | sed -E 's/0x[0-9a-f]+/0x?/g')
if [[ "$output" != "$expected" ]]; then
  echo "FAIL: call_graph printed:"
  echo "$output"
  diff <(echo "$expected") <(echo "$output") || true
  exit 1
fi
echo PASS
