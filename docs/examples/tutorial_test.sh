#!/bin/bash
# Runs every step of the tutorial (docs/tutorial/): each demo prints what its
# scripted clients saw; steps 1 and 3 also serve a real client (bash's
# /dev/tcp) on a port they pick, and step 3 shuts down gracefully on SIGTERM.
set -euo pipefail
cd "${TEST_SRCDIR}/${TEST_WORKSPACE}/docs/examples"
fail() { echo "FAIL: $*" >&2; exit 1; }

check_demo() {  # PROGRAM EXPECTED
  local output
  output=$(timeout 20 "./$1") || fail "$1 exited with $?"
  [[ "$output" == "$2" ]] || fail "$1 printed:
$output
expected:
$2"
}

check_demo tutorial_1_echo "client sees: hello
client sees: world
client sees: the connection closed"

check_demo tutorial_2_chat "ada sees: welcome, ada
bob sees: welcome, bob
ada sees: bob joined
ada sees: bob: hi ada
bob sees: ada: hello bob
ada sees: bob left"

check_demo tutorial_3_shutdown "ada sees: welcome, ada
ada sees: idle for too long, bye
ada sees: the connection closed
bob sees: welcome, bob
bob sees: server shutting down
bob sees: the connection closed
the server has shut down"

# Bad flags are refused with a usage line and status 2.
for program in tutorial_1_echo tutorial_2_chat tutorial_3_shutdown; do
  for flag in --port= --port=x --port=70000 --prot=1; do
    status=0
    "./$program" "$flag" 2>"$TEST_TMPDIR/err" || status=$?
    ((status == 2)) || fail "$program $flag exited with $status"
    grep -q usage "$TEST_TMPDIR/err" || fail "$program $flag printed no usage"
  done
done

# Serving for real: start with --port=0 and read the port the program prints.
start() {  # PROGRAM -> sets server_pid, port
  "./$1" --port=0 >"$TEST_TMPDIR/$1.log" &
  server_pid=$!
  port=""
  for _ in $(seq 200); do
    port=$(grep -oE '127\.0\.0\.1:[0-9]+' "$TEST_TMPDIR/$1.log" | head -1 | cut -d: -f2) && [[ -n "$port" ]] && break
    sleep 0.05
  done
  [[ -n "$port" ]] || fail "$1 printed no port: $(cat "$TEST_TMPDIR/$1.log")"
}

start tutorial_1_echo
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'ping\n' >&3
read -r -t 10 reply <&3 || fail "no echo from tutorial_1_echo"
[[ "$reply" == ping ]] || fail "tutorial_1_echo answered '$reply'"
exec 3<&-
kill -TERM "$server_pid"
wait "$server_pid" || true  # step 1 has no SIGTERM handler: it just ends

start tutorial_3_shutdown
exec 3<>"/dev/tcp/127.0.0.1/$port"
read -r -t 10 -d ' ' prompt <&3 || fail "no name prompt"
[[ "$prompt" == "name?" ]] || fail "prompt was '$prompt'"
printf 'eve\n' >&3
read -r -t 10 welcome <&3
[[ "$welcome" == "welcome, eve" ]] || fail "welcome was '$welcome'"
kill -TERM "$server_pid"
read -r -t 10 last <&3 || fail "no last line after SIGTERM"
[[ "$last" == "server shutting down" ]] || fail "last line was '$last'"
if read -r -t 10 more <&3; then fail "the connection stayed open: '$more'"; fi
exec 3<&-
status=0
wait "$server_pid" || status=$?
((status == 0)) || fail "tutorial_3_shutdown exited with $status after SIGTERM"
grep -q "shut down" "$TEST_TMPDIR/tutorial_3_shutdown.log" || fail "no 'shut down' line"
echo "the tutorial's three steps work"
