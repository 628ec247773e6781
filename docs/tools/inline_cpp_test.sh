#!/bin/bash
# The site refuses a pasted C++ block: builds two one-page sites with the real
# extension (docs/tools/aio_sphinx.py) and -W, and expects the one whose page
# pastes C++ to fail naming the page, and the one that includes a file by
# region to pass.
set -euo pipefail
cd "${TEST_SRCDIR}/${TEST_WORKSPACE}"
tools="$PWD/docs/tools"
fail() { echo "FAIL: $*" >&2; exit 1; }

make_site() {  # DIR PAGE-TEXT
  mkdir -p "$1"
  cat >"$1/conf.py" <<CONF
import sys
sys.path.insert(0, "$tools")
extensions = ["myst_parser", "aio_sphinx"]
source_suffix = {".md": "markdown"}
CONF
  printf '%s\n' "$2" >"$1/index.md"
  printf 'int main() {\n  // [START body]\n  return 0;\n  // [END body]\n}\n' >"$1/example.cc"
}
build() { /usr/bin/sphinx-build -q -W -b html -d "$1/.doctrees" "$1" "$1/_html" 2>&1; }

pasted="$TEST_TMPDIR/pasted"
make_site "$pasted" $'# Pasted\n\n```cpp\nint main() { return 0; }\n```'
if output=$(build "$pasted"); then
  fail "a page with a pasted C++ block built"
fi
[[ "$output" == *"index.md:"*"inline C++ block"* ]] || fail "unexpected error for a pasted block: $output"

directive="$TEST_TMPDIR/directive"
make_site "$directive" $'# Directive\n\n```{code-block} c++\nint main() { return 0; }\n```'
if output=$(build "$directive"); then
  fail "a page with a pasted {code-block} c++ built"
fi

included="$TEST_TMPDIR/included"
make_site "$included" $'# Included\n\n```{literalinclude} example.cc\n:language: cpp\n:start-after: "[START body]"\n:end-before: "[END body]"\n```\n\n```sh\necho shell blocks are fine\n```'
output=$(build "$included") || fail "a page that includes a region did not build: $output"
sed "s/<[^>]*>//g" "$included/_html/index.html" | grep -q "return 0;" || fail "the included region is not on the page"
echo "inline C++ blocks are refused; includes pass"
