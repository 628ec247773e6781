#!/bin/bash
# Runs the UDP echo example (docs/datagrams.md) and checks what it prints.
set -euo pipefail
cd "${TEST_SRCDIR}/${TEST_WORKSPACE}"

expected="echo server on 127.0.0.1
reply: hello
reply: datagram
reply: world
server closed after echoing 3 datagrams
a datagram to a closed port: connection refused"
output=$(docs/examples/udp_echo)
if [[ "$output" != "$expected" ]]; then
  echo "FAIL: udp_echo printed:" >&2
  echo "$output" >&2
  exit 1
fi
echo "PASS"
