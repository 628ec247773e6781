#!/bin/sh
echo "bazel coverage is not supported by aio's offline build (see docs/design/build.md)" >&2
exit 1
