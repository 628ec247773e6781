# (a) 100,000 `await asyncio.sleep(0)` in one task.
import asyncio
import time

N = 100_000


async def main():
    start, cpu_start = time.perf_counter(), time.process_time()
    for _ in range(N):
        await asyncio.sleep(0)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    print(f"sleep0 {elapsed / N * 1e9:.0f} ns/op wall, {cpu / N * 1e9:.0f} ns/op cpu")


asyncio.run(main())
