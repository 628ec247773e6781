#!/bin/bash
# Builds docs/examples/consumer, a separate workspace that declares this
# repository with local_repository(name = "aio", ...), and runs its binaries.
#
# The nested Bazel gets a fresh output root, an empty repository cache and, where
# the kernel lets us (root, as in CI), no network at all (`unshare -n`): so this
# also proves that aio's offline stubs make Bazel 4.2.3 work with no downloads.
set -euo pipefail
fail() { echo "FAIL: $*" >&2; exit 1; }

# The test is "local" (not sandboxed): runfiles link to the source tree.
aio_root=$(dirname "$(readlink -f "${TEST_SRCDIR}/${TEST_WORKSPACE}/WORKSPACE")")
consumer="$aio_root/docs/examples/consumer"
[[ -f "$consumer/WORKSPACE" ]] || fail "no consumer workspace at $consumer"

home=$(getent passwd "$(id -u)" | cut -d: -f6)
offline=()
if unshare -n true 2>/dev/null; then
  offline=(unshare -n)
  echo "running the nested Bazel without a network (unshare -n)"
else
  echo "note: cannot drop the network here (unshare -n refused); still using an empty repository cache"
fi

nested_bazel() {
  (cd "$consumer" && "${offline[@]}" bazel --batch --output_user_root="$TEST_TMPDIR/bazel_root" "$@" \
    --repository_cache="$TEST_TMPDIR/empty_repository_cache" \
    --disk_cache="$home/.cache/aio/bazel-disk-cache-consumer" \
    --symlink_prefix=/ --noshow_progress)
}

for target in consumer consumer_fine_grained; do
  output=$(nested_bazel run "//:$target" 2>"$TEST_TMPDIR/$target.log") \
    || { cat "$TEST_TMPDIR/$target.log" >&2; fail "bazel run //:$target failed in the consumer workspace"; }
  echo "$target: $output"
  [[ "$output" == "consumer: sum=6 from producer" ]] || fail "$target printed '$output'"
done
echo "PASS"
