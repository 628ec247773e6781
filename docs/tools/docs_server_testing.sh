# Sourced by the docs tests that need the real site served: starts
# tools/static_server/docs_server on a copy of docs/site_html (the sandbox links
# every input file from elsewhere, and the server refuses symlinks that leave its
# root), on a port it picks, and sets `url` to what it prints. The server is
# stopped when the test exits. Needs `fail` and TEST_TMPDIR.
start_docs_server() {
  cp -rL docs/site_html "$TEST_TMPDIR/site"
  tools/static_server/docs_server --root="$TEST_TMPDIR/site" --port=0 >"$TEST_TMPDIR/server.log" 2>&1 &
  server=$!
  trap 'kill $server 2>/dev/null || true' EXIT
  url=""
  # The server prints its URL once it listens; bounded at 10 s.
  for _ in $(seq 200); do
    url=$(grep -oE 'http://127\.0\.0\.1:[0-9]+/' "$TEST_TMPDIR/server.log" || true)
    [[ -n "$url" ]] && return 0
    sleep 0.05
  done
  fail "the docs server printed no URL: $(cat "$TEST_TMPDIR/server.log")"
}
