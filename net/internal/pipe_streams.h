// Streams over one end of a pipe, for aio's subprocess support (asyncio's
// SubprocessStreamProtocol reads the child's stdout/stderr through a
// StreamReader and writes its stdin through a StreamWriter, as aio does).
//
// Internal: only //subprocess may use it. The functions are defined in
// net/streams.cc, next to the stream state they build on; that file does not
// include this header (it would make //net:streams depend on this target and
// this target on //net:streams), so a signature that drifts is a link error in
// //subprocess.
#ifndef AIO_NET_INTERNAL_PIPE_STREAMS_H_
#define AIO_NET_INTERNAL_PIPE_STREAMS_H_

#include <cstddef>
#include <functional>

#include "net/streams.h"

namespace aio::internal {

// Takes over `fd` (already non-blocking). `on_closed` runs once the pipe's
// transport has lost its connection (EOF read, or the write end closed).
// Must be called on the loop's thread, inside the running loop.
StreamReader open_read_pipe(int fd, std::size_t limit, std::function<void()> on_closed);
StreamWriter open_write_pipe(int fd, std::function<void()> on_closed);

}  // namespace aio::internal

#endif  // AIO_NET_INTERNAL_PIPE_STREAMS_H_
