# (a) 100,000 `await asyncio.sleep(0)` in one task.
import asyncio
import time

N = 100_000


async def main():
    start = time.perf_counter()
    for _ in range(N):
        await asyncio.sleep(0)
    elapsed = time.perf_counter() - start
    print(f"sleep0 {elapsed / N * 1e9:.0f} ns/op")


asyncio.run(main())
