# The language: closures, nonlocal/global, comprehensions, unpacking, slicing, classes.
import asyncio

counter = 0


def bump():
    global counter
    counter += 1
    return counter


def make_counter():
    n = 0

    def inc(step=1):
        nonlocal n
        n += step
        return n

    return inc


c = make_counter()
c()
c(5)
print("closure:", c(), bump(), bump(), counter)

data = list(range(10))
print(data[2:5], data[::-3], data[-2:], data[:0])
first, *middle, last = data
print(first, middle, last)
a, (b, c2) = 1, (2, 3)
print(a, b, c2)
words = "the quick brown fox".split()
print({w: len(w) for w in words}, {len(w) for w in words} == {3, 5})
print([(i, j) for i in range(3) for j in range(i)], sum(x * x for x in range(4)))
print(sorted(words, key=len, reverse=True), max(words, key=len), min(3, 1, 2))
print(list(zip("ab", [1, 2], strict=True)), list(enumerate("xy", start=1)), list(map(str.upper, "ab")))
print(list(filter(None, [0, 1, "", "a"])), any([]), all([]), list(reversed([1, 2, 3])))
print(", ".join(f"{k}={v}" for k, v in {"x": 1, "y": 2}.items()))
print("  pad ".strip(), "a,b,,c".split(","), "Hello".lower().startswith("he"), "ab" * 3)
print("text".encode(), b"bytes".decode(), "x".join(["1", "2"]), "{} {name}".format(1, name="n"))
d = {"a": 1}
d.setdefault("b", []).append(2)
print(d, d.get("zz", "default"), d.pop("a"), list(d.keys()), "b" in d)
s = {1, 2, 3}
s.add(4)
s.discard(1)
print(sorted(s), sorted(s | {9}), sorted(s & {2, 3}), 3 in s)
x = 5
print("chain:", 1 < x < 10, 1 < x > 10, x if x > 3 else -x, not x, x is not None)
n = 0
while True:
    n += 1
    if n < 3:
        continue
    break
else:
    print("never")
for i in range(3):
    pass
else:
    print("for-else ran", i)


class Animal:
    kind = "animal"

    def __init__(self, name):
        self.name = name

    def speak(self):
        return f"{self.name} makes a sound"

    def __repr__(self):
        return f"Animal({self.name!r})"


class Dog(Animal):
    def speak(self):
        return super().speak() + ": woof"


dog = Dog("rex")
print(dog.speak(), dog.kind, isinstance(dog, Animal), type(dog).__name__, [dog])
alias = data
alias.append(99)
print(data[-1], alias is data, data == list(data), data is not list(data))


async def agen_like(n):
    out = []
    for i in range(n):
        await asyncio.sleep(0)
        out.append(i)
    return out


async def main():
    vals = [await agen_like(i) for i in range(3)]
    print(vals, [v for v in await agen_like(4) if v % 2])
    total = sum(await asyncio.gather(*[agen_like(2) for _ in range(2)]), [])
    print(total)
    label = f"{len(await agen_like(3))} items"
    print(label)


asyncio.run(main())
text = "añb€c"
print(text[1], text[-2:], text[::-1], len(text), text.upper(), "ÀÉ".lower(), b"\xffab".upper())
print(f"{'x'=}", f"{len(text)=}", f"{3.0:g}", f"{1e-7:g}", f"{123456789:e}")


class Resource:
    def __init__(self, name):
        self.name = name

    async def __aenter__(self):
        await asyncio.sleep(0)
        print("open", self.name)
        return self

    async def __aexit__(self, exc_type, exc, tb):
        print("close", self.name, exc_type.__name__ if exc_type else None)
        return exc_type is KeyError


class Countdown:
    def __init__(self, n):
        self.n = n

    def __aiter__(self):
        return self

    async def __anext__(self):
        if self.n == 0:
            raise StopAsyncIteration
        self.n -= 1
        await asyncio.sleep(0)
        return self.n


async def managers():
    async with Resource("a") as r, Resource("b"):
        print("inside", r.name)
    async with Resource("c"):
        raise KeyError("suppressed")
    try:
        async with Resource("d"):
            raise ValueError("not suppressed")
    except ValueError as e:
        print("escaped:", e)
    print([i async for i in Countdown(3)] if False else "no async comprehension")
    async for i in Countdown(3):
        print("countdown", i)


asyncio.run(managers())
