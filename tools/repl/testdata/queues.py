# Queue workers with join, task_done, get_nowait/put_nowait, priority and LIFO queues.
import asyncio


async def worker(name, queue, results):
    while True:
        item = await queue.get()
        await asyncio.sleep(0.001 * item)
        results.append((name, item))
        queue.task_done()


async def main():
    queue = asyncio.Queue()
    for i in range(10):
        queue.put_nowait(i)
    print("qsize", queue.qsize(), queue.empty(), queue.full())
    results = []
    workers = [asyncio.create_task(worker(f"w{n}", queue, results)) for n in range(3)]
    await queue.join()
    for w in workers:
        w.cancel()
    await asyncio.gather(*workers, return_exceptions=True)
    print("processed", sorted(item for _, item in results))

    small = asyncio.Queue(maxsize=2)
    await small.put("a")
    await small.put("b")
    print("full:", small.full(), small.maxsize)
    try:
        small.put_nowait("c")
    except asyncio.QueueFull:
        print("QueueFull")
    print(small.get_nowait(), small.get_nowait())
    try:
        small.get_nowait()
    except asyncio.QueueEmpty:
        print("QueueEmpty")

    pq = asyncio.PriorityQueue()
    for item in [(3, "c"), (1, "a"), (2, "b")]:
        await pq.put(item)
    print([pq.get_nowait() for _ in range(3)])
    lq = asyncio.LifoQueue()
    for i in range(3):
        lq.put_nowait(i)
    print([lq.get_nowait() for _ in range(3)])

    async def producer(q):
        for i in range(5):
            await q.put(i)
            print("put", i)
        await q.put(None)

    async def consumer(q):
        while (item := await q.get()) is not None:
            print("got", item)

    bounded = asyncio.Queue(1)
    await asyncio.gather(producer(bounded), consumer(bounded))


asyncio.run(main())
