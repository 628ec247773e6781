// A header with a sample that has no compiled copy (the checker's self-test).
//
//   co_await aio::sleep(1s);   // edited here, not in the copy
#ifndef BAD_H_
#define BAD_H_
#endif
