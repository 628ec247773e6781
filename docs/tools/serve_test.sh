#!/bin/bash
# //docs:serve end to end: the docs server on the real site, on a port it
# picks; fetches pages, the search index and a stylesheet with Python's
# http.client over one keep-alive connection, then stops it with SIGTERM.
set -euo pipefail
cd "${TEST_SRCDIR}/${TEST_WORKSPACE}"
fail() { echo "FAIL: $*" >&2; exit 1; }

source docs/tools/docs_server_testing.sh
start_docs_server

/usr/bin/python3 - "$url" <<'PY'
import http.client, sys, urllib.parse
url = urllib.parse.urlsplit(sys.argv[1])
connection = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
def get(path, method="GET", headers={}):
    connection.request(method, path, headers=headers)
    response = connection.getresponse()
    return response, response.read()
checks = [
    ("/", 200, "text/html; charset=utf-8", b"asyncio for C++20"),
    ("/api/tasks.html", 200, "text/html; charset=utf-8", b"wait_for"),
    ("/searchindex.js", 200, "text/javascript; charset=utf-8", b"aio::TaskGroup"),
    ("/tutorial/", 200, "text/html; charset=utf-8", b"chat server"),
    ("/no/such/page.html", 404, "text/html; charset=utf-8", b"404 Not Found"),
    ("/%2e%2e/%2e%2e/etc/passwd", 403, "text/html; charset=utf-8", b"403 Forbidden"),
]
for path, status, content_type, needle in checks:
    response, body = get(path)
    assert response.status == status, (path, response.status)
    assert response.getheader("Content-Type") == content_type, (path, response.getheader("Content-Type"))
    assert int(response.getheader("Content-Length")) == len(body), path
    assert needle in body, (path, needle)
response, body = get("/_static/styles/furo.css")
assert response.status == 200 and response.getheader("Content-Type") == "text/css; charset=utf-8"
modified = response.getheader("Last-Modified")
response, body = get("/_static/styles/furo.css", headers={"If-Modified-Since": modified})
assert response.status == 304 and body == b"", response.status
response, body = get("/index.html", method="HEAD")
assert response.status == 200 and body == b"" and int(response.getheader("Content-Length")) > 1000
print("served", len(checks) + 3, "requests on one connection")
# A request is bounded to its head: a body is refused (413), a huge head too (431).
for request, status in [(("POST", "/", "x" * 10), 413), (("GET", "/" + "a" * 9000, None), 431)]:
    other = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    other.request(request[0], request[1], body=request[2])
    response = other.getresponse()
    assert response.status == status, (request[0], response.status)
    other.close()
PY

kill -TERM "$server"
status=0
wait "$server" || status=$?
trap - EXIT
((status == 0)) || fail "docs_server exited with $status after SIGTERM"
grep -q stopped "$TEST_TMPDIR/server.log" || fail "no 'stopped' line"
echo "the docs server serves the site"
