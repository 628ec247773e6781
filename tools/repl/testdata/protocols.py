# asyncio.Protocol subclasses driven by aio's transports (loop.create_server /
# create_connection).
import asyncio


class EchoServer(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport
        print("server: connection from", transport.get_extra_info("peername")[0])

    def data_received(self, data):
        print("server: got", data)
        self.transport.write(data.upper())

    def connection_lost(self, exc):
        print("server: connection lost", exc)


class Client(asyncio.Protocol):
    def __init__(self, done):
        self.done = done
        self.received = []

    def connection_made(self, transport):
        transport.write(b"ping")

    def data_received(self, data):
        self.received.append(data)
        if b"".join(self.received) == b"PING":
            self.done.set_result(b"".join(self.received))

    def connection_lost(self, exc):
        print("client: connection lost", exc)


async def main():
    loop = asyncio.get_running_loop()
    server = await loop.create_server(EchoServer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    done = loop.create_future()
    transport, protocol = await loop.create_connection(lambda: Client(done), "127.0.0.1", port)
    print("client got", await done, isinstance(protocol, Client))
    transport.close()
    await asyncio.sleep(0.05)
    server.close()
    await server.wait_closed()
    print("closed")


asyncio.run(main())
