# A streams echo server and a client in one program.
import asyncio


async def handle(reader, writer):
    peer = writer.get_extra_info("peername")
    print("server: client from", peer[0])
    while True:
        line = await reader.readline()
        if not line:
            break
        writer.write(line.upper())
        await writer.drain()
    print("server: client left")
    writer.close()
    await writer.wait_closed()


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    host, port = server.sockets[0].getsockname()
    print("listening on", host, port > 0)
    async with server:
        reader, writer = await asyncio.open_connection(host, port)
        for word in [b"hello\n", b"aio\n", b"repl\n"]:
            writer.write(word)
            await writer.drain()
            print("client got", await reader.readline())
        writer.write(b"exact bytes\n")
        await writer.drain()
        print(await reader.readexactly(5), await reader.readexactly(7))
        writer.close()
        await writer.wait_closed()
        await asyncio.sleep(0.05)
    print("server closed")

    r = asyncio.StreamReader()
    r.feed_data(b"line one\nline two\npartial")
    r.feed_eof()
    print(await r.readline())
    print(await r.readuntil(b"two"))
    print(await r.read())
    print(r.at_eof())
    r2 = asyncio.StreamReader()
    r2.feed_data(b"abc")
    r2.feed_eof()
    try:
        await r2.readexactly(10)
    except asyncio.IncompleteReadError as e:
        print("IncompleteReadError", e.partial, e.expected)
    r3 = asyncio.StreamReader()
    r3.feed_data(b"a\nb\nc\n")
    r3.feed_eof()
    async for line in r3:
        print("line", line)
    try:
        await asyncio.open_connection("127.0.0.1", 1)
    except ConnectionRefusedError as e:
        print("refused:", type(e).__name__, isinstance(e, OSError))


asyncio.run(main())
