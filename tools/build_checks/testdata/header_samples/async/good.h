// A header whose samples all have compiled copies (the checker's self-test).
//
//   aio::Coro<int> answer() { co_return 42; }
//   ...
//   int value = co_await answer();   // ... in a task
//
// Not samples: a list whose items are indented,
//  - the first item, with
//    a continuation that ends in a semicolon;
// and a Python snippet, which has no C++ line ending:
//   value = await answer()
#ifndef GOOD_H_
#define GOOD_H_
#endif
