#!/bin/bash
# Runs the networking examples and checks what they print; drives the echo
# server binary in both modes with a plain bash /dev/tcp client.
set -euo pipefail
cd "${TEST_SRCDIR}/${TEST_WORKSPACE}"
fail() { echo "FAIL: $*" >&2; exit 1; }

expected_streams="server received 'Hello World!' from 127.0.0.1
client got 'Hello World!' back
ada sees: bob joined
ada sees: bob: hi ada
bob sees: ada: hello bob
ada sees: bob left"
output=$(docs/examples/streams)
[[ "$output" == "$expected_streams" ]] || fail "streams printed:
$output"

expected_transports="connection from 127.0.0.1
client sent: Hello World!
server received: Hello World!
client received: Hello World!
the server closed the connection
counted 10485760 bytes"
output=$(docs/examples/transports)
[[ "$output" == "$expected_transports" ]] || fail "transports printed:
$output"

# The echo server: both modes answer, bad flags are refused.
for mode in streams protocol; do
  # Port 0: the server takes a free one and prints it (a fixed or random
  # port can collide with whatever else runs on the machine).
  docs/examples/echo_server --port=0 --mode=$mode >"$TEST_TMPDIR/server.log" &
  server=$!
  port=""
  for _ in $(seq 200); do
    port=$(grep -oE 'on 127\.0\.0\.1:[0-9]+' "$TEST_TMPDIR/server.log" | grep -oE '[0-9]+$' || true)
    [[ -n "$port" ]] && break
    sleep 0.05
  done
  [[ -n "$port" ]] || fail "echo_server --mode=$mode printed no address"
  exec 3<>/dev/tcp/127.0.0.1/$port
  printf 'ping %s\n' "$mode" >&3
  read -r reply <&3
  exec 3<&-
  kill -TERM $server
  wait $server || fail "echo_server --mode=$mode did not exit cleanly on SIGTERM"
  [[ "$reply" == "ping $mode" ]] || fail "echo_server --mode=$mode answered '$reply'"
done
if docs/examples/echo_server --mode=bogus 2>/dev/null; then fail "echo_server accepted --mode=bogus"; fi
echo "PASS"
