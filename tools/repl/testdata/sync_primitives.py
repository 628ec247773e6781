# Lock, Event, Semaphore, BoundedSemaphore, Condition, Barrier.
import asyncio


async def main():
    lock = asyncio.Lock()
    order = []

    async def critical(n):
        async with lock:
            order.append(f"enter {n}")
            await asyncio.sleep(0.01)
            order.append(f"leave {n}")

    await asyncio.gather(critical(1), critical(2), critical(3))
    print(order)
    print("locked after:", lock.locked())
    await lock.acquire()
    print("locked:", lock.locked())
    lock.release()
    try:
        lock.release()
    except RuntimeError as e:
        print("RuntimeError:", e)

    event = asyncio.Event()

    async def waiter(n):
        await event.wait()
        print("waiter", n, "woke")

    tasks = [asyncio.create_task(waiter(n)) for n in range(3)]
    await asyncio.sleep(0.01)
    print("set?", event.is_set())
    event.set()
    await asyncio.gather(*tasks)
    event.clear()
    print("cleared:", event.is_set())

    sem = asyncio.Semaphore(2)
    active = 0
    peak = 0

    async def limited(n):
        nonlocal active, peak
        async with sem:
            active += 1
            peak = max(peak, active)
            await asyncio.sleep(0.01)
            active -= 1

    await asyncio.gather(*[limited(n) for n in range(6)])
    print("peak concurrency:", peak)

    bounded = asyncio.BoundedSemaphore(1)
    await bounded.acquire()
    bounded.release()
    try:
        bounded.release()
    except ValueError as e:
        print("ValueError:", e)

    cond = asyncio.Condition()
    ready = []

    async def consumer():
        async with cond:
            await cond.wait_for(lambda: len(ready) > 0)
            print("consumer got", ready.pop())

    async def producer():
        await asyncio.sleep(0.01)
        async with cond:
            ready.append("item")
            cond.notify()

    await asyncio.gather(consumer(), producer())

    barrier = asyncio.Barrier(3)

    async def party(n):
        await asyncio.sleep(0.01 * n)
        await barrier.wait()
        return n

    print("barrier:", await asyncio.gather(*[party(n) for n in range(3)]), barrier.parties)


asyncio.run(main())
