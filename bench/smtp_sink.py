"""An SMTP server that accepts every message and keeps only counts (issue #4's outbox bench).

    python bench/smtp_sink.py --port P

aiosmtpd's SMTP protocol on the asyncio loop of this one process, no thread. Each message is
counted with the time it was accepted (time.monotonic(), the system-wide CLOCK_MONOTONIC on
Linux, so other processes can compare their own readings with it), its size, and its
Message-ID (found with a byte search, so that "sent exactly once" can be checked cheaply);
the body is then dropped.

It prints `ready <port>` once listening, then answers one command per line on stdin with one
JSON line on stdout:

    stats           count, unique Message-IDs, bytes, first/last accept time, own CPU seconds
    reset           forget everything counted so far
    wait N SECONDS  answer (with stats) once N messages have been counted, or when time is up
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import resource
import sys
import time
from typing import Any

from aiosmtpd.smtp import SMTP

HOST = "127.0.0.1"
MARK = b"\nMessage-ID: "


class Sink:
    def __init__(self) -> None:
        self.reset()
        self.changed = asyncio.Event()

    def reset(self) -> None:
        self.count = 0
        self.bytes = 0
        self.ids: set[bytes] = set()
        self.first: float | None = None
        self.last: float | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        now = time.monotonic()
        content: bytes = envelope.original_content or envelope.content
        start = content.find(MARK)
        if start >= 0:
            start += len(MARK)
            self.ids.add(content[start : content.find(b"\r\n", start)])
        self.count += 1
        self.bytes += len(content)
        if self.first is None:
            self.first = now
        self.last = now
        self.changed.set()
        return "250 OK discarded"

    def stats(self) -> dict[str, Any]:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return {
            "count": self.count,
            "unique_ids": len(self.ids),
            "bytes": self.bytes,
            "first": self.first,
            "last": self.last,
            "now": time.monotonic(),
            "cpu": usage.ru_utime + usage.ru_stime,
        }

    async def wait(self, count: int, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while self.count < count and time.monotonic() < deadline:
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), timeout=0.5)


async def main(args: argparse.Namespace) -> None:
    loop = asyncio.get_running_loop()
    sink = Sink()
    server = await loop.create_server(
        # A fixed hostname: aiosmtpd would otherwise ask the resolver for ours per connection.
        lambda: SMTP(sink, hostname="sink.bench", data_size_limit=1 << 20),
        HOST,
        args.port,
    )
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    print(f"ready {args.port}", flush=True)
    async with server:
        while line := (await reader.readline()).decode().split():
            if line[0] == "reset":
                sink.reset()
            elif line[0] == "wait":
                await sink.wait(int(line[1]), float(line[2]))
            print(json.dumps(sink.stats()), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, required=True)
    asyncio.run(main(parser.parse_args()))
