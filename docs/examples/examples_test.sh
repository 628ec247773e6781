#!/bin/bash
# Runs the example programs and checks what they print, and that the README's
# example is hello.cc verbatim (so the README cannot drift from code that builds).
set -euo pipefail
cd "${TEST_SRCDIR}/${TEST_WORKSPACE}"
fail() { echo "FAIL: $*" >&2; exit 1; }

output=$(docs/examples/hello)
[[ "$output" == "9 49" ]] || fail "hello printed '$output', expected '9 49'"

output=$(docs/examples/pipeline)
echo "$output"
for line in "job 1 done" "job 2 done" "job 3 done" "job 4 timed out" "job 5 timed out" \
            "job 6 timed out" "all jobs handled"; do
  grep -q -- "$line" <<<"$output" || fail "pipeline did not print '$line'"
done
[[ $(wc -l <<<"$output") -eq 7 ]] || fail "pipeline printed $(wc -l <<<"$output") lines, expected 7"

expected_tasks="hello slow, hello fast
worker cleans up (shutting down)
worker cancelled: yes
timed out after 50 ms
the answer is 42
call_soon runs at the next iteration
call_later runs after 20 ms
SIGUSR1: reloading the configuration"
output=$(docs/examples/tasks)
[[ "$output" == "$expected_tasks" ]] || fail "tasks printed:
$output"

expected_bridging="lookup returned 65
the Asio timer fired
the task was cancelled, and its Asio wait with it
the other thread got 42"
output=$(docs/examples/bridging)
[[ "$output" == "$expected_bridging" ]] || fail "bridging printed:
$output"

expected_structured="group results: 2 4 6
unhandled errors in a TaskGroup; first: negative input -1
gather: 2 4
return_exceptions: 6, error
stopped waiting; the shielded task goes on
shielded result: 42
first done: 2, still pending: 2
completed: 4
completed: 6
rescheduled timeout: 8"
output=$(docs/examples/structured)
[[ "$output" == "$expected_structured" ]] || fail "structured printed:
$output"

expected_sync="20 downloads, at most 3 at a time
withdrawals: ok and refused, balance 20
event: the waiter saw set()
condition: got item 7
barrier: 3 parties passed, indices summing to 3"
output=$(docs/examples/sync)
[[ "$output" == "$expected_sync" ]] || fail "sync printed:
$output"

# The README's ```cpp block must be hello.cc, line for line.
readme_example=$(awk '/^```cpp$/{inside=1; next} /^```$/{if (inside) exit} inside' README.md)
[[ "$readme_example" == "$(cat docs/examples/hello.cc)" ]] \
  || fail "README.md's example differs from docs/examples/hello.cc"
echo "PASS"
