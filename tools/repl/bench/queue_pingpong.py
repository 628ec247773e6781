# (c) 100,000 items bounced between two tasks over two queues.
import asyncio
import time

N = 100_000


async def echo(inbox, outbox):
    for _ in range(N):
        item = await inbox.get()
        await outbox.put(item)


async def main():
    ping = asyncio.Queue(1)
    pong = asyncio.Queue(1)
    peer = asyncio.create_task(echo(ping, pong))
    start, cpu_start = time.perf_counter(), time.process_time()
    for i in range(N):
        await ping.put(i)
        await pong.get()
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    await peer
    print(f"queue_pingpong {elapsed / N * 1e9:.0f} ns/op wall, {cpu / N * 1e9:.0f} ns/op cpu")


asyncio.run(main())
