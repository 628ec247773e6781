#!/bin/bash
# Runs the TLS example (docs/tls.md) and checks what it prints.
set -euo pipefail
cd "${TEST_SRCDIR}/${TEST_WORKSPACE}"
fail() { echo "FAIL: $*" >&2; exit 1; }

output=$(docs/examples/tls_echo)
echo "$output"
# The cipher line is checked apart: its name depends on the OpenSSL build
# (TLS 1.3 suites are all named TLS_*).
grep -qE '^cipher: TLS_[A-Z0-9_]+ \(TLSv1\.3\)$' <<<"$output" || fail "no cipher line"
expected="TLS echo server listening
echo: hello over TLS
refused: certificate verify failed: unable to get local issuer certificate (X509 error 20)
server: 220 ready to start TLS
server: got a secret"
[[ "$(grep -v '^cipher: ' <<<"$output")" == "$expected" ]] || fail "tls_echo printed something else"
# The certificates' temporary directory is removed at the end.
if ls -d "${TEST_TMPDIR}"/aio-tls-* >/dev/null 2>&1; then fail "the certificates were left behind"; fi
echo "PASS"
