// Dropping the Server that start_server returns closes it at once (asyncio's
// keeps serving): the compiler must say so. Checked with Clang, which warns on
// a discarded co_await result; GCC 12 ignores [[nodiscard]] there.
#include <string>

#include "net/streams.h"

aio::Coro<void> handle(aio::StreamReader, aio::StreamWriter) { co_return; }

aio::Coro<void> serve() { co_await aio::start_server(handle, "127.0.0.1", 0); }
