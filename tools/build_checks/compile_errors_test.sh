#!/usr/bin/env bash
# Mistakes a user makes should stop the compiler with a message that says what
# to write, not with errors deep inside aio. Each file in testdata/compile_errors
# must fail to compile with the message expected here.
set -uo pipefail
dir=tools/build_checks/testdata/compile_errors
status=0
# expect_error FILE STANDARD MESSAGE [COMPILER FLAGS...]
expect_error() {
  local file=$1 standard=$2 message=$3
  shift 3
  local compiler=(g++)
  (($# > 0)) && compiler=("$@")
  local output
  output=$("${compiler[@]}" "-std=$standard" -fsyntax-only -I. "$dir/$file" 2>&1)
  if [[ $? -eq 0 ]]; then
    echo "FAIL: $file compiled"
    status=1
  elif ! grep -qF -- "$message" <<<"$output"; then
    echo "FAIL: $file: the compiler did not say: $message"
    echo "$output" | head -20
    status=1
  else
    echo "ok: $file: $message"
  fi
}
expect_error cxx17.cc c++17 'aio needs C++20: compile with -std=c++20'
expect_error task_group_returns_int.cc c++20 'aio::task_group: the body must be a coroutine returning aio::Coro<T>'
# GCC 12 ignores [[nodiscard]] on a co_await result; Clang (./bazelw installs
# it) does not. Clang 14 needs -fsized-deallocation for aio's frame allocator.
expect_error dropped_server.cc c++20 'a dropped aio::Server closes at once: keep it' \
  clang++ -fsized-deallocation -Werror=unused-result
exit $status
