// The "coroutine was never awaited" report, and in debug mode where such a
// coroutine was created (asyncio's coroutine origin tracking).
#include <cstdio>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/debugging/stacktrace.h"
#include "absl/debugging/symbolize.h"
#include "async/coro.h"
#include "async/loop.h"

namespace aio::internal {
namespace {

// asyncio records 10 frames by default (set_coroutine_origin_tracking_depth).
constexpr int kOriginDepth = 10;

using Origins = std::unordered_map<const void*, std::vector<void*>>;

Origins& origins() {
  thread_local Origins map;
  return map;
}

std::string format_origin(const std::vector<void*>& frames) {
  std::string text;
  char symbol[512];
  for (void* frame : frames) {
    text += "\n    ";
    // The return address points just past the call; look up the call itself.
    if (absl::Symbolize(static_cast<char*>(frame) - 1, symbol, sizeof symbol)) {
      text += symbol;
    } else {
      char address[32];
      std::snprintf(address, sizeof address, "%p", frame);
      text += address;
    }
  }
  return text;
}

}  // namespace

void remember_coroutine_origin(const void* promise) noexcept {
  try {
    std::vector<void*> frames(kOriginDepth);
    // Skip this function only: the promise constructor is usually inlined into
    // the coroutine function, whose name is the one that matters.
    int depth = absl::GetStackTrace(frames.data(), kOriginDepth, 1);
    frames.resize(static_cast<std::size_t>(depth > 0 ? depth : 0));
    origins()[promise] = std::move(frames);
    recorded_coroutine_origins = origins().size();
  } catch (...) {
    // Out of memory while debugging: the report will just lack its origin.
  }
}

void forget_coroutine_origin(const void* promise) noexcept {
  origins().erase(promise);
  recorded_coroutine_origins = origins().size();
}

void report_never_awaited(const void* promise) noexcept {
  try {
    std::string message = "coroutine was never awaited";
    if (recorded_coroutine_origins != 0) {
      auto found = origins().find(promise);
      if (found != origins().end()) {
        message += "\n  Coroutine created at (most recent call first):" + format_origin(found->second);
        origins().erase(found);
        recorded_coroutine_origins = origins().size();
      }
    }
    EventLoop* loop = running_loop_or_null();
    if (loop != nullptr) {
      loop->call_exception_handler({.message = message});
    } else {
      std::fprintf(stderr, "aio: %s\n", message.c_str());
    }
  } catch (...) {
    std::fputs("aio: coroutine was never awaited\n", stderr);
  }
}

}  // namespace aio::internal
