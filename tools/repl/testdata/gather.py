# gather with and without return_exceptions.
import asyncio


async def value(v, d=0):
    await asyncio.sleep(d)
    return v


async def error(msg, d=0):
    await asyncio.sleep(d)
    raise ValueError(msg)


async def main():
    print(await asyncio.gather(value(1, 0.02), value(2, 0.01), value(3)))
    print(await asyncio.gather())
    results = await asyncio.gather(value("a"), error("no"), value("b"), return_exceptions=True)
    print(results)
    print([type(r).__name__ for r in results])
    try:
        await asyncio.gather(value(1), error("first", 0.01), error("second", 0.02))
    except ValueError as e:
        print("first error propagates:", e)
    await asyncio.sleep(0.05)
    t = asyncio.create_task(value(10, 1))
    t.cancel()
    out = await asyncio.gather(t, value(11), return_exceptions=True)
    print(type(out[0]).__name__, out[1])
    squares = await asyncio.gather(*(value(i * i) for i in range(6)))
    print(squares, sum(squares))


asyncio.run(main())
