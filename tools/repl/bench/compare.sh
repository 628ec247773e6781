#!/bin/bash
# Runs the REPL's benchmark scripts under python3 and under the aio REPL, side
# by side, three times each, plus start-up to the first result (`print(1)` from
# piped stdin, as `python3 -m asyncio` would get it). Usage (from the root):
#   ./bazelw build -c opt //tools/repl && tools/repl/bench/compare.sh bazel-bin/tools/repl/repl
set -euo pipefail
repl="${1:-bazel-bin/tools/repl/repl}"
here="$(dirname "$0")"
for script in sleep0 create_task_gather queue_pingpong; do
  for run in 1 2 3; do
    echo "python3 $(python3 "$here/$script.py")   aio-repl $("$repl" "$here/$script.py")"
  done
done
startup() {
  local start end
  start=$(date +%s%N)
  "$@" >/dev/null 2>&1 <<<'print(1)'
  end=$(date +%s%N)
  echo $(((end - start) / 1000000))
}
for run in 1 2 3; do
  echo "startup python3 -m asyncio $(startup python3 -m asyncio) ms   aio-repl $(startup "$repl") ms"
done
