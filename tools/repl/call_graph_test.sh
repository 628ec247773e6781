#!/bin/bash
# asyncio.capture_call_graph / format_call_graph / print_call_graph in the aio
# REPL. CPython 3.11 (this machine's python3) has no call graph functions, so
# unlike golden_test.sh the expected output is aio's own, checked in beside the
# program; object ids (0x...) are masked.
set -uo pipefail
repl="$1"
program="$2"
expected="$3"
actual="$(timeout 60 "$repl" --virtual-time "$program" | sed -E 's/0x[0-9a-f]+/0x?/g')"
status=${PIPESTATUS[0]}
if ! diff -u "$expected" <(echo "$actual"); then
  echo "FAIL: $program's output differs"
  exit 1
fi
[ "$status" -eq 0 ] || { echo "FAIL: exit status $status"; exit 1; }
echo PASS
