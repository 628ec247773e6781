#!/bin/bash
# `repl ps PID` / `repl pstree PID` against a child aio program with known
# tasks (inspect_test_program), started with and without AIO_INSPECT=1: the
# table and the tree (ages masked), the socket's mode (0600), no socket without
# AIO_INSPECT, the socket removed after the child exits, and the errors for a
# bad pid, a process without a socket, a refused connection and no process.
set -uo pipefail
repl="$1"
program="$2"
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# A short private directory: TEST_TMPDIR is too long for a socket path.
export XDG_RUNTIME_DIR="$(mktemp -d /tmp/aio-inspect-sh-XXXXXX)"
trap 'rm -rf "$XDG_RUNTIME_DIR"' EXIT

# Starts the program in the background; sets child; returns once it printed "ready".
start() {
  local fifo="$XDG_RUNTIME_DIR/ready"
  rm -f "$fifo"
  mkfifo "$fifo"
  "$program" >"$fifo" &
  child=$!
  local line=""
  read -r -t 20 line <"$fifo"
  rm -f "$fifo"
  [ "$line" = "ready" ] || fail "the test program did not start (got '$line')"
}

stop() {
  kill -TERM "$child"
  wait "$child"
  local status=$?
  [ "$status" -eq 0 ] || fail "the test program exited with status $status after SIGTERM"
}

expect_error() {  # expected-status expected-stderr command...
  local status_wanted="$1" message="$2"
  shift 2
  local output status
  output="$("$@" 2>&1 >/dev/null)"
  status=$?
  [ "$status" -eq "$status_wanted" ] || fail "'$*' exited with $status, not $status_wanted ($output)"
  [ "$output" = "$message" ] || fail "'$*' said '$output', not '$message'"
}

# --- without AIO_INSPECT: no socket, and ps says why ---
unset AIO_INSPECT
start
socket="$XDG_RUNTIME_DIR/aio-inspect-$child.sock"
[ ! -e "$socket" ] || fail "a socket exists without AIO_INSPECT"
expect_error 1 "ps: process $child is not an aio program started with AIO_INSPECT=1 (no socket at $socket)" \
  "$repl" ps "$child"
stop

# --- with AIO_INSPECT=1 ---
AIO_INSPECT=1 start
socket="$XDG_RUNTIME_DIR/aio-inspect-$child.sock"
mode="$(stat -c %a "$socket" 2>/dev/null)"
[ "$mode" = "600" ] || fail "the socket's mode is '$mode', not 600"
[ "$(stat -c %u "$socket")" = "$(id -u)" ] || fail "the socket is not owned by this user"

mask() { sed -E 's/[0-9]+(\.[0-9])?(ms|s)\b/AGE/g; s/[0-9]+m[0-9]{2}s/AGE/g; s/ +/ /g'; }
table="$("$repl" ps "$child")" || fail "ps exited with $?"
expected_table="id name state age awaiting
1 Task-1 waiting AGE Task-1 → Event.wait
2 gatherer waiting AGE gatherer → gather
3 sleeper waiting AGE waiter → sleeper → sleep
4 waiter waiting AGE waiter → sleeper
5 worker-1 waiting AGE gatherer → gather → worker-1 → Queue.get
6 worker-2 waiting AGE gatherer → gather → worker-2 → Queue.get"
if [ "$(echo "$table" | mask)" != "$expected_table" ]; then
  fail "ps printed:"
  echo "$table"
  diff <(echo "$expected_table") <(echo "$table" | mask)
fi

tree="$("$repl" pstree "$child")" || fail "pstree exited with $?"
expected_tree="└── (T) Task-1
    └── Event.wait
└── (T) gatherer
    └── gather
        ├── (T) worker-1
        │   └── Queue.get
        └── (T) worker-2
            └── Queue.get
└── (T) waiter
    └── (T) sleeper
        └── sleep"
if [ "$tree" != "$expected_tree" ]; then
  fail "pstree printed:"
  diff <(echo "$expected_tree") <(echo "$tree")
fi
pid="$child"
stop
[ ! -e "$socket" ] || fail "the socket was not removed when the program exited"
expect_error 1 "ps: no process with id $pid" "$repl" ps "$pid"

# --- bad input ---
expect_error 1 "ps: invalid process id 'abc' (expected a number, such as 4242)" "$repl" ps abc
expect_error 1 "pstree: invalid process id '0' (expected a positive number)" "$repl" pstree 0
expect_error 2 "usage: repl ps PID" "$repl" ps

# --- a socket nobody serves (left by a killed process): refused ---
stale="$XDG_RUNTIME_DIR/aio-inspect-$$.sock"
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$stale"
expect_error 1 "ps: process $$ refused the connection on $stale (nothing serves it: the process may have stopped inspecting, or the socket was left by a process that was killed)" \
  "$repl" ps "$$"

if [ "$failures" -ne 0 ]; then
  echo "$failures failure(s)"
  exit 1
fi
echo "PASS"
