#!/bin/bash
# Regenerates tools/repl/testdata/*.out with python3 (3.11): the reference the
# golden test holds the aio REPL to. Run from the repository root.
set -euo pipefail
cd "$(dirname "$0")/testdata"
for program in *.py; do
  python3 "$program" >"${program%.py}.out"
  echo "wrote ${program%.py}.out"
done
