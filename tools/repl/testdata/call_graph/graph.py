# asyncio's call graph functions (Python 3.14) in the aio REPL. CPython 3.11
# has none of them, so graph.expected is aio's output, checked by hand against
# Python 3.14's format (Lib/asyncio/graph.py): ids are masked by the test.
import asyncio

async def worker(queue):
    await queue.get()

async def sleeper():
    await asyncio.sleep(3600)

async def waiter(task):
    await task

async def shielder(task):
    await asyncio.shield(task)

async def main():
    queue = asyncio.Queue()
    w1 = asyncio.create_task(worker(queue), name="worker-1")
    w2 = asyncio.create_task(worker(queue), name="worker-2")

    async def gatherer():
        await asyncio.gather(w1, w2)

    g = asyncio.create_task(gatherer(), name="gatherer")
    s = asyncio.create_task(sleeper(), name="sleeper")
    w = asyncio.create_task(waiter(s), name="waiter")
    inner = asyncio.create_task(sleeper(), name="inner")
    sh = asyncio.create_task(shielder(inner), name="shielder")
    for _ in range(3):
        await asyncio.sleep(0)

    asyncio.print_call_graph(w2)
    asyncio.print_call_graph(s)
    asyncio.print_call_graph(inner)
    class Buffer:
        def __init__(self):
            self.parts = []
        def write(self, text):
            self.parts.append(text)
    buffer = Buffer()
    asyncio.print_call_graph(g, file=buffer)
    print(repr("".join(buffer.parts)))

    graph = asyncio.capture_call_graph(w1)
    print(type(graph).__name__, graph.future is w1, graph.call_stack)
    print([parent.future.get_name() for parent in graph.awaited_by], graph.awaited_by[0].call_stack)
    print(asyncio.capture_call_graph(w1, limit=0).call_stack)
    print(asyncio.format_call_graph(w2, depth=2).splitlines()[0])
    print(asyncio.format_call_graph() == asyncio.format_call_graph(asyncio.current_task()))
    print(len(asyncio.all_tasks()))

    try:
        asyncio.capture_call_graph(42)
    except TypeError as error:
        print("TypeError:", error)
    try:
        asyncio.print_call_graph(w1, colour=True)
    except TypeError as error:
        print("TypeError:", error)

    queue.put_nowait(1)
    queue.put_nowait(2)
    await g
    try:
        asyncio.format_call_graph(g)
    except asyncio.InvalidStateError as error:
        print("InvalidStateError:", error)
    for task in (s, inner):
        task.cancel()
    await asyncio.gather(w, sh, return_exceptions=True)

asyncio.run(main())
