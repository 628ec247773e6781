# Tasks: create_task, names, results, done callbacks, current_task, cancel.
import asyncio


async def work(name, delay, value):
    await asyncio.sleep(delay)
    print("work", name, "done")
    return value


async def main():
    t1 = asyncio.create_task(work("a", 0.02, 1), name="first")
    t2 = asyncio.create_task(work("b", 0.01, 2))
    print(t1.get_name(), t2.get_name().startswith("Task-"))
    print(t1.done(), t2.done())
    results = [await t1, await t2]
    print("results", results, t1.result() + t2.result())
    seen = []
    t3 = asyncio.create_task(work("c", 0, "x"))
    t3.add_done_callback(lambda t: seen.append(t.result()))
    await t3
    await asyncio.sleep(0)
    print("callback saw", seen)
    me = asyncio.current_task()
    print("current task is main:", me.get_name() == "Task-1", me is asyncio.current_task())
    t4 = asyncio.create_task(work("d", 10, None))
    await asyncio.sleep(0)
    print("cancel ->", t4.cancel("stop it"), t4.cancelling())
    try:
        await t4
    except asyncio.CancelledError as e:
        print("cancelled with", e.args, t4.cancelled(), t4.done())
    try:
        t4.result()
    except asyncio.CancelledError:
        print("result() raises CancelledError")
    t5 = asyncio.create_task(work("e", 1, None))
    try:
        t5.result()
    except asyncio.InvalidStateError as e:
        print("InvalidStateError:", e)
    t5.cancel()
    await asyncio.sleep(0)
    async def boom():
        raise ValueError("bad value")
    t6 = asyncio.create_task(boom())
    await asyncio.sleep(0)
    print("exception():", repr(t6.exception()))
    print(asyncio.iscoroutinefunction(work), asyncio.iscoroutine(t6), asyncio.isfuture(t6))
    c = work("f", 0, 5)
    print(asyncio.iscoroutine(c), await c)


asyncio.run(main())
