#!/bin/bash
# Runs each program of tools/repl/testdata under the aio REPL and compares its
# stdout with python3's, checked in beside it (regenerate_golden.sh). Object
# addresses (0x...) are masked on both sides. The loop runs on virtual time, so
# sleeps cost nothing and the order of events does not depend on the machine.
set -uo pipefail
repl="$1"
shift
failures=0
for program in "$@"; do
  expected="${program%.py}.out"
  actual="$(mktemp)"
  errors="$(mktemp)"
  timeout 60 "$repl" --virtual-time "$program" >"$actual" 2>"$errors"
  status=$?
  if ! diff -u <(sed -E 's/0x[0-9a-f]+/0x?/g' "$expected") <(sed -E 's/0x[0-9a-f]+/0x?/g' "$actual"); then
    echo "FAIL $program (exit status $status); stderr:"
    cat "$errors"
    failures=$((failures + 1))
  elif [ "$status" -ne 0 ]; then
    echo "FAIL $program: exit status $status; stderr:"
    cat "$errors"
    failures=$((failures + 1))
  else
    echo "PASS $program"
  fi
  rm -f "$actual" "$errors"
done
if [ "$failures" -ne 0 ]; then
  echo "$failures program(s) differ from python3"
  exit 1
fi
