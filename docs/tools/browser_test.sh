#!/bin/bash
# The site in a real browser: the docs server (//tools/static_server) serves
# the built site, headless Chromium (Debian's chromium) loads it, and this
# checks what a person would see:
# - the landing page renders with its navigation (the sidebar's captions and
#   links in the DOM after scripts ran) and the search box, which submits to
#   search.html with the query as `q`;
# - search.html?q=wait_for, what typing wait_for in that box loads, lists
#   aio::wait_for among its results once Sphinx's search script has run;
# - screenshots of the landing page, an API page and the search results are
#   saved as test outputs (bazel-testlogs/docs/browser_test/test.outputs/) and
#   are real pictures (PNG, not one flat colour).
# Tagged manual: it needs chromium, which ./bazelw installs only with
# AIO_BROWSER_TESTS=1 (it is large); .ci/run runs it when chromium is there.
set -euo pipefail
cd "${TEST_SRCDIR}/${TEST_WORKSPACE}"
fail() { echo "FAIL: $*" >&2; exit 1; }
[[ -x /usr/bin/chromium ]] || fail "/usr/bin/chromium is missing: AIO_BROWSER_TESTS=1 ./bazelw installs it"
outputs="${TEST_UNDECLARED_OUTPUTS_DIR:-$TEST_TMPDIR/outputs}"
mkdir -p "$outputs"

source docs/tools/docs_server_testing.sh
start_docs_server

# The flags that work on this machine (no network: no background requests).
run=0
chromium() {  # chromium ARGS... URL: a fresh profile each time
  run=$((run + 1))
  HOME="$TEST_TMPDIR" timeout 120 /usr/bin/chromium --headless --no-sandbox --disable-gpu --disable-quic \
    --no-first-run --disable-background-networking --disable-component-update --disable-sync \
    --disable-dev-shm-usage --hide-scrollbars --user-data-dir="$TEST_TMPDIR/profile$run" \
    --window-size=1280,900 --virtual-time-budget=10000 "$@" 2>>"$TEST_TMPDIR/chromium.log"
}

chromium --dump-dom "$url" >"$TEST_TMPDIR/landing.html" || fail "chromium could not load $url"
chromium --dump-dom "${url}search.html?q=wait_for" >"$TEST_TMPDIR/search.html" || fail "chromium could not load the search page"
chromium --screenshot="$outputs/landing.png" "$url"
chromium --screenshot="$outputs/api_tasks.png" "${url}api/tasks.html"
chromium --screenshot="$outputs/search_wait_for.png" "${url}search.html?q=wait_for"

/usr/bin/python3 - "$TEST_TMPDIR" "$outputs" <<'PY'
import html.parser, os, struct, sys, zlib
tmp, outputs = sys.argv[1], sys.argv[2]

class Dom(html.parser.HTMLParser):
    """Text and links of the elements under the first element with `cls`."""
    def __init__(self, cls):
        super().__init__()
        self.cls, self.depth, self.text, self.links, self.forms = cls, 0, [], [], []
    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append(attrs)
        if self.depth:
            self.depth += tag not in ("br", "img", "input", "meta", "link", "hr")
            if tag == "a" and attrs.get("href"):
                self.links.append(attrs["href"])
        elif self.cls in (attrs.get("class") or "").split():
            self.depth = 1
    def handle_endtag(self, tag):
        if self.depth:
            self.depth -= 1
    def handle_data(self, data):
        if self.depth:
            self.text.append(data)

def parse(name, cls):
    dom = Dom(cls)
    with open(os.path.join(tmp, name), encoding="utf-8") as f:
        dom.feed(f.read())
    return dom

landing = parse("landing.html", "sidebar-tree")
text = " ".join("".join(landing.text).split())
for caption in ["Tutorial", "High-level APIs", "Low-level APIs", "Guides", "API reference", "Design notes"]:
    assert caption in text, f"the landing page's navigation has no '{caption}': {text[:300]}"
for link in ["tutorial/index.html", "async.html", "streams.html", "asyncio.html", "api/index.html"]:
    assert link in landing.links, f"the navigation has no link to {link}: {landing.links[:20]}"
search_forms = [f for f in landing.forms if "search" in (f.get("class") or "")]
assert search_forms and search_forms[0].get("action") == "search.html", f"no search box form: {landing.forms}"
print(f"landing page: navigation with {len(landing.links)} links")

results = parse("search.html", "search")
entries = " ".join("".join(results.text).split())
assert "aio::wait_for" in entries.replace(" ", ""), f"searching wait_for did not list aio::wait_for: {entries[:500]}"
assert any(link.startswith("api/tasks.html#") for link in results.links), "no result links to the API page"
print(f"search for wait_for: {len(results.links)} results, aio::wait_for among them")

def png_colours(path):
    """How many distinct byte values the image's decompressed rows hold."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    chunks, at = [], 8
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        if kind == b"IDAT":
            chunks.append(data[at + 8:at + 8 + length])
        at += 12 + length
    return width, height, len(set(zlib.decompress(b"".join(chunks))))

for name in ["landing.png", "api_tasks.png", "search_wait_for.png"]:
    width, height, distinct = png_colours(os.path.join(outputs, name))
    assert (width, height) == (1280, 900), f"{name} is {width}x{height}"
    assert distinct > 32, f"{name} looks blank ({distinct} distinct byte values)"
    print(f"{name}: {width}x{height}")
PY

kill -TERM "$server"
wait "$server" || fail "the docs server did not stop cleanly"
trap - EXIT
echo "the site renders and searches in Chromium; screenshots in $outputs"
