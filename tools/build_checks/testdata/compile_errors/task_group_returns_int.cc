// A task_group body that returns neither aio::Coro<T> nor void.
#include "async/task_group.h"

aio::Coro<void> wrong() {
  co_await aio::task_group([](aio::TaskGroup&) { return 42; });
}
