# The error types and messages programs see.
import asyncio


def show(fn):
    try:
        fn()
    except Exception as e:
        print(type(e).__name__ + ":", e)


show(lambda: 1 / 0)
show(lambda: 7 // 0)
show(lambda: [1, 2][5])
show(lambda: {"a": 1}["b"])
show(lambda: int("abc"))
show(lambda: "x" + 1)
show(lambda: None.foo)
show(lambda: undefined_name)
show(lambda: (1, 2).append(3))
show(lambda: len(5))
show(lambda: float("nope"))
show(lambda: [].pop())
show(lambda: "abc".index("z"))
show(lambda: hash([]))
show(lambda: sorted([1, "a"]))


def unpack():
    a, b = [1, 2, 3]


show(unpack)


def takes_two(a, b):
    return a + b


show(lambda: takes_two(1))
show(lambda: takes_two(1, 2, 3))
show(lambda: takes_two(1, c=2))


class AppError(Exception):
    def __init__(self, code):
        super().__init__(f"code {code}")
        self.code = code


try:
    raise AppError(42)
except AppError as e:
    print("AppError", e.code, e, repr(e.args))

try:
    try:
        raise KeyError("inner")
    except KeyError as e:
        raise RuntimeError("outer") from e
except RuntimeError as e:
    print("cause:", repr(e.__cause__))

try:
    assert 1 == 2, "math is broken"
except AssertionError as e:
    print("AssertionError:", e)

for exc in [asyncio.CancelledError, asyncio.TimeoutError, asyncio.InvalidStateError, asyncio.QueueEmpty,
            asyncio.IncompleteReadError, asyncio.BrokenBarrierError, ConnectionResetError]:
    print(exc.__name__, issubclass(exc, Exception), [b.__name__ for b in [BaseException, Exception, OSError, RuntimeError] if issubclass(exc, b)])


async def main():
    try:
        asyncio.run(asyncio.sleep(0))
    except RuntimeError as e:
        print("RuntimeError:", e)
    try:
        await 5
    except TypeError as e:
        print("TypeError:", e)
    try:
        asyncio.create_task(5)
    except TypeError as e:
        print("TypeError:", e)
    coro = asyncio.sleep(0)
    await coro
    try:
        await coro
    except RuntimeError as e:
        print("RuntimeError:", e)


asyncio.run(main())
print(repr(1.0), repr(0.1), 1e16, 1e-5, 123.456, 2.5e-7, -0.0, 1/3, 10/2, float("inf"))
print(repr("it's"), repr('say "hi"'), repr('both \' and "'), repr("tab\there"), repr(b"\x00\xff'"))
print({1: "a", (2, 3): [4.5, None]}, set(), {7}, (1,), (), [[]], True + True)
print(f"{12345.678:,.1f} {255:#x} {7:03d} {'left':<6}| {3.0} {-5:+d} {0.25:%}")
print("%s and %r, %d%% %.3f" % ("str", "repr", 50, 2 / 3))
