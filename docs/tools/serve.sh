#!/bin/bash
# ./bazelw run //docs:serve -- [--port=8000] [--host=127.0.0.1]
# Serves the built site (//docs:site) with aio's docs server (tools/static_server/) and
# prints the URL. Ctrl-C stops it.
set -euo pipefail
runfiles="${RUNFILES_DIR:-$0.runfiles}"
exec "$runfiles/aio/tools/static_server/docs_server" --root="$runfiles/aio/docs/site_html" "$@"
