# asyncio.timeout, timeout_at, reschedule, expired, wait_for.
import asyncio


async def main():
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(0.05) as cm:
            await asyncio.sleep(1)
    except TimeoutError:
        print("timed out; expired:", cm.expired())

    async with asyncio.timeout(1) as cm:
        await asyncio.sleep(0.01)
    print("in time; expired:", cm.expired())

    try:
        async with asyncio.timeout(None) as cm:
            print("when is None:", cm.when() is None)
            cm.reschedule(loop.time() + 0.02)
            await asyncio.sleep(1)
    except TimeoutError:
        print("rescheduled timeout fired")

    try:
        async with asyncio.timeout_at(loop.time() + 0.01):
            await asyncio.sleep(1)
    except TimeoutError as e:
        print("timeout_at:", type(e).__name__, isinstance(e, asyncio.TimeoutError))

    async def value_later(v, d):
        await asyncio.sleep(d)
        return v

    print("wait_for ok:", await asyncio.wait_for(value_later(7, 0.01), timeout=1))
    try:
        await asyncio.wait_for(value_later(8, 1), timeout=0.01)
    except asyncio.TimeoutError:
        print("wait_for timed out")

    async def stubborn():
        try:
            await asyncio.sleep(1)
        finally:
            print("cleanup in finally")

    try:
        await asyncio.wait_for(stubborn(), 0.01)
    except TimeoutError:
        print("after cleanup")


asyncio.run(main())
