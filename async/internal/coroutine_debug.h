// One flag shared by the loop and coroutines: whether the loop running on this
// thread is in debug mode, so that creating a coroutine records where (for the
// "coroutine was never awaited" report, internal/coroutine_origins.cc). The loop
// (//async:loop) sets it while it runs; coro.h (//async:coro) reads it. It lives
// here so that neither target needs the other's headers for it.
#ifndef AIO_ASYNC_INTERNAL_COROUTINE_DEBUG_H_
#define AIO_ASYNC_INTERNAL_COROUTINE_DEBUG_H_

namespace aio::internal {

inline thread_local bool record_coroutine_origins = false;

}  // namespace aio::internal

#endif  // AIO_ASYNC_INTERNAL_COROUTINE_DEBUG_H_
