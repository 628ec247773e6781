// Compiled copies for the checker's self-test (never compiled: it is test data).
// [async/good.h]
aio::Coro<int> answer() { co_return 42; }
aio::Coro<void> main_task() {
  int value = co_await answer();   // ... in a task
}
// [end]
// [async/bad.h]
co_await aio::sleep(2s);
// [end]
