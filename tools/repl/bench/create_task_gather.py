# (b) 10,000 create_task + one gather over them.
import asyncio
import time

N = 10_000


async def child(i):
    return i


async def main():
    start, cpu_start = time.perf_counter(), time.process_time()
    tasks = [asyncio.create_task(child(i)) for i in range(N)]
    results = await asyncio.gather(*tasks)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    assert len(results) == N
    print(f"create_task_gather {elapsed / N * 1e9:.0f} ns/op wall, {cpu / N * 1e9:.0f} ns/op cpu")


asyncio.run(main())
