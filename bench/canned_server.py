"""A server that does no work, to find the load generator's own ceiling.

It answers a POST with the 303 the real app sends and a GET with a page of the real page's
size carrying a credential, straight from an asyncio Protocol. Driven by loadgen.py in
`resume` mode, whatever rate comes out is what the generator can produce on its core.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib

TOKEN = b"WzEsInBheW1lbnQiLCJiZW5jaCIsMSwxLGZhbHNlXQ.awL-CA.Sq4UCBRZNsGzYJc2WdihZxHqu8g"
PAGE = (
    b'<!doctype html><form method="post"><input type="hidden" name="d" value="%s">' % TOKEN
).ljust(4640, b" ")
OK = (
    b"HTTP/1.1 200 OK\r\nserver: canned\r\ncontent-type: text/html; charset=utf-8\r\n"
    b"content-length: %d\r\n\r\n%s" % (len(PAGE), PAGE)
)
SEE_OTHER = (
    b"HTTP/1.1 303 See Other\r\nserver: canned\r\n"
    b"location: /embed/demo-motors/payment/numbers?d=%s\r\n"
    b"content-type: text/plain; charset=utf-8\r\ncontent-length: 0\r\n\r\n" % TOKEN
)


class Canned(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        for _ in range(1000):
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].lower()
            length = 0
            at = head.find(b"content-length:")
            if at >= 0:
                length = int(head[at + 15 :].split(b"\r\n", 1)[0])
            if len(self.buffer) < end + 4 + length:
                return
            self.buffer = self.buffer[end + 4 + length :]
            reply = SEE_OTHER if head.startswith(b"post") else OK
            self.transport.write(reply)  # type: ignore[attr-defined]


async def serve(host: str, port: int) -> None:
    server = await asyncio.get_running_loop().create_server(Canned, host, port, backlog=2048)
    print(f"canned: serving on http://{host}:{port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8002)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.host, args.port))
