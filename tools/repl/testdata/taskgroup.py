# TaskGroup and except*: failures cancel the siblings and come out together.
import asyncio


async def ok(n):
    await asyncio.sleep(0.01 * n)
    print("ok", n)
    return n


async def fail(n, exc):
    await asyncio.sleep(0.01 * n)
    print("failing", n)
    raise exc


async def slow():
    try:
        await asyncio.sleep(10)
    except asyncio.CancelledError:
        print("slow was cancelled")
        raise


async def main():
    async with asyncio.TaskGroup() as tg:
        tasks = [tg.create_task(ok(i)) for i in range(3)]
    print("all done:", [t.result() for t in tasks])

    try:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(slow())
            tg.create_task(fail(1, ValueError("v1")))
            tg.create_task(fail(2, KeyError("k")))
    except* ValueError as eg:
        print("ValueErrors:", [str(e) for e in eg.exceptions])
    except* KeyError as eg:
        print("KeyErrors:", [repr(e) for e in eg.exceptions])

    try:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(fail(1, RuntimeError("r")))
    except ExceptionGroup as eg:
        print("group:", eg.message, len(eg.exceptions), type(eg.exceptions[0]).__name__)
        print(str(eg))

    try:
        try:
            raise ExceptionGroup("two", [ValueError(1), TypeError(2)])
        except* ValueError:
            print("handled the ValueError part")
    except ExceptionGroup as rest:
        print("left over:", repr(rest.exceptions))


asyncio.run(main())
