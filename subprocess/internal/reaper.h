// The reaper: waits for children that no Process refers to any more, and
// reaps them, so that a dropped Process never leaves a zombie.
//
// A Process watches its child on its loop. When its last handle goes away
// while the child still runs, nothing on that loop will ask about the child
// again, and the loop itself may close before the child exits: the child's
// pidfd moves here, to one helper thread (started on first use, living until
// the program exits) that waits on every adopted pidfd with epoll and reaps
// each child as it exits. This is asyncio's ThreadedChildWatcher idea with one
// thread for all orphans instead of one per child.
//
// Thread-safe. The thread blocks every signal, so it never takes a signal
// meant for the loop's handlers.
#ifndef AIO_SUBPROCESS_INTERNAL_REAPER_H_
#define AIO_SUBPROCESS_INTERNAL_REAPER_H_

#include <cstddef>

#include "net/internal/socket.h"

namespace aio::internal {

// Takes over `pidfd` (a pidfd of an unreaped child of this process) and reaps
// the child when it exits, at once if it has. Never throws and never blocks,
// except as a last resort when the helper thread cannot be started (no memory,
// no descriptor left): then it kills the child and waits for it here.
void reap_when_exited(FileDescriptor pidfd) noexcept;

// Starts the helper thread now rather than at the first orphan. For tests that
// count descriptors: the thread's epoll descriptor lives as long as the program.
void start_reaper();

// Blocks until every child adopted so far has been reaped. For tests.
void wait_until_orphans_reaped();

// Children adopted and not reaped yet.
std::size_t orphan_count();

}  // namespace aio::internal

#endif  // AIO_SUBPROCESS_INTERNAL_REAPER_H_
