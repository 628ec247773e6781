# asyncio.wait with FIRST_COMPLETED / FIRST_EXCEPTION / timeout, as_completed.
import asyncio


async def after(d, v):
    await asyncio.sleep(d)
    return v


async def fail_after(d):
    await asyncio.sleep(d)
    raise RuntimeError("failed")


async def main():
    tasks = [asyncio.create_task(after(0.01 * i, i)) for i in (3, 1, 2)]
    done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    print(len(done), len(pending), [t.result() for t in done])
    done, pending = await asyncio.wait(tasks)
    print(len(done), len(pending), sorted(t.result() for t in done))

    slow = asyncio.create_task(after(1, "slow"))
    done, pending = await asyncio.wait([slow], timeout=0.01)
    print("timeout:", len(done), len(pending), slow in pending)
    slow.cancel()

    t1 = asyncio.create_task(fail_after(0.01))
    t2 = asyncio.create_task(after(1, "never"))
    done, pending = await asyncio.wait([t1, t2], return_when=asyncio.FIRST_EXCEPTION)
    print("first exception:", t1 in done, t2 in pending, repr(t1.exception()))
    t2.cancel()

    try:
        await asyncio.wait([after(0, 1)])
    except TypeError as e:
        print("TypeError:", e)

    order = []
    for fut in asyncio.as_completed([after(0.03, "c"), after(0.01, "a"), after(0.02, "b")]):
        order.append(await fut)
    print("as_completed:", order)

    try:
        for fut in asyncio.as_completed([after(1, "x")], timeout=0.01):
            await fut
    except TimeoutError:
        print("as_completed timed out")
    await asyncio.sleep(0)


asyncio.run(main())
