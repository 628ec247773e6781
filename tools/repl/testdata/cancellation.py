# Cancellation: finally blocks, catching and re-raising, uncancel, shield.
import asyncio


async def guarded(log):
    try:
        log.append("start")
        await asyncio.sleep(10)
    except asyncio.CancelledError:
        log.append("caught")
        await asyncio.sleep(0)
        log.append("cleaned up")
        raise
    finally:
        log.append("finally")


async def swallow():
    try:
        await asyncio.sleep(10)
    except asyncio.CancelledError:
        return "swallowed"


async def main():
    log = []
    t = asyncio.create_task(guarded(log))
    await asyncio.sleep(0.01)
    t.cancel()
    try:
        await t
    except asyncio.CancelledError:
        print("task cancelled:", t.cancelled())
    print(log)

    t2 = asyncio.create_task(swallow())
    await asyncio.sleep(0)
    t2.cancel()
    print("swallowed result:", await t2, t2.cancelled())

    inner = asyncio.create_task(asyncio.sleep(0.02, result="inner done"))
    async def outer_fn():
        return await asyncio.shield(inner)

    outer = asyncio.create_task(outer_fn())
    await asyncio.sleep(0)
    outer.cancel()
    try:
        await outer
    except asyncio.CancelledError:
        print("outer cancelled; inner still running:", not inner.done())
    print(await inner)

    async def count_cancels():
        task = asyncio.current_task()
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            print("cancelling:", task.cancelling())
            print("uncancel ->", task.uncancel())
        return "recovered"

    t3 = asyncio.create_task(count_cancels())
    await asyncio.sleep(0)
    t3.cancel()
    print(await t3)

    t4 = asyncio.create_task(asyncio.sleep(1))
    t4.cancel()
    await asyncio.sleep(0)
    print("cancelled before start:", t4.cancelled())
    print("cancel a done task:", t4.cancel())


asyncio.run(main())
