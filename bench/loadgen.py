"""A small HTTP/1.1 keep-alive load generator that behaves like shoppers (issue #2).

One asyncio task per connection, one connection per simulated shopper. Each shopper opens the
widget's first page, then repeatedly posts the vehicle step with the credential `d` taken from
the latest page it received and follows the 303 to the page it points at; the pair is one
"step". In `bare` mode a step is a single POST answered with the page (the baseline route).

Requests are hand-built bytes over asyncio streams and responses are parsed just enough
(status line, Location, Content-Length) because a general client (httpx) on one core cannot
drive a server doing thousands of requests a second. Every loop is bounded by time and count.

Prints one JSON object on stdout; run.py starts it pinned to its own core.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import os
import resource
import sys
import time
import urllib.parse
from typing import Any

HOST = "127.0.0.1"  # the only address this tool ever talks to
FIRST_PAGE = "/embed/demo-motors/payment"
STEP_URL = "/embed/demo-motors/payment/vehicle"
BARE_START = "/bare/demo-motors/payment"
BARE_STEP = "/bare/demo-motors/payment/vehicle"
MODELS = (b"RAV4", b"Camry", b"Corolla", b"Highlander", b"Tacoma")
TOKEN_MARK = b'name="d" value="'
VEHICLE_MARK = b'name="page_vehicle" value="'
# The car a vehicle page passes on the iframe's address (issue #11, item 1), for --prefill.
PREFILL = "?condition=new&year=2025&make=Toyota&model=RAV4&trim=XLE&price=34250&stock=T1234"
MAX_STEPS_PER_SHOPPER = 1_000_000
GRACE_SECONDS = 20.0  # after the window, shoppers still mid-step get this long to finish


class Stats:
    def __init__(self) -> None:
        self.latencies: list[float] = []  # seconds, steps that finished inside the window
        self.posts_sent = 0
        self.posts_acked = 0  # 303 (ours) or 200 (bare): the server said "saved"
        self.statuses: dict[str, int] = {}
        self.errors: list[str] = []
        self.drafts_started = 0
        self.requests_in_window = 0
        self.page_bytes = 0

    def status(self, where: str, code: int) -> None:
        key = f"{where}:{code}"
        self.statuses[key] = self.statuses.get(key, 0) + 1


class Connection:
    """One keep-alive HTTP/1.1 connection to 127.0.0.1."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.host_header = f"Host: {HOST}:{port}\r\n".encode()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(HOST, self.port)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def request(
        self, method: bytes, path: bytes, body: bytes = b""
    ) -> tuple[int, bytes | None, bytes]:
        """Send one request; return (status, Location or None, body)."""
        if self.writer is None:
            await self.open()
        assert self.reader is not None and self.writer is not None
        head = b"%s %s HTTP/1.1\r\n%sUser-Agent: resume-bench\r\nAccept: text/html\r\n" % (
            method,
            path,
            self.host_header,
        )
        if method == b"POST":
            head += (
                b"Content-Type: application/x-www-form-urlencoded\r\n"
                b"Content-Length: %d\r\n" % len(body)
            )
        self.writer.write(head + b"\r\n" + body)
        raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length = 0
        location = None
        chunked = False
        close = False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"location":
                location = value.strip()
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
            elif name == b"connection" and b"close" in value.lower():
                close = True
        if chunked:
            content = await self._chunks()
        else:
            content = await self.reader.readexactly(length) if length else b""
        if close:
            self.close()
        return status, location, content

    async def _chunks(self) -> bytes:
        assert self.reader is not None
        parts = []
        for _ in range(100_000):
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await self.reader.readuntil(b"\r\n")
                break
            parts.append(await self.reader.readexactly(size))
            await self.reader.readexactly(2)
        return b"".join(parts)


def token_of(page: bytes) -> bytes:
    """Return the hidden `d` credential of a page (what a browser would post next)."""
    start = page.find(TOKEN_MARK)
    if start < 0:
        raise ValueError("page has no credential")
    start += len(TOKEN_MARK)
    return page[start : page.index(b'"', start)]


def hidden_vehicle(page: bytes) -> bytes:
    """The page's hidden `page_vehicle` field, already HTML-escaped as the form would post
    it once unescaped; b"" when the page has none."""
    start = page.find(VEHICLE_MARK)
    if start < 0:
        return b""
    start += len(VEHICLE_MARK)
    value = html.unescape(page[start : page.index(b'"', start)].decode())
    return b"&page_vehicle=" + urllib.parse.quote_plus(value).encode()


def form_body(token: bytes, shopper: int, n: int) -> bytes:
    """The vehicle step as a browser posts it: 7 fields, d, the empty honeypot, the button.

    The price changes on every post and the model every few, so field_changed events happen.
    """
    price = 18_000 + (shopper * 7919 + n * 37) % 40_000
    model = MODELS[(shopper + n // 4) % len(MODELS)]
    condition = b"used" if (n // 10) % 2 else b"new"
    return (
        b"d=%s&comment_hp=&condition=%s&year=2024&make=Toyota&model=%s&trim=XLE"
        b"&stock_number=&price=%d&action=continue" % (token, condition, model, price)
    )


class Clock:
    def __init__(self, warmup: float, duration: float) -> None:
        self.start = time.perf_counter()
        self.window_start = self.start + warmup
        self.window_end = self.window_start + duration


async def shopper(index: int, args: argparse.Namespace, clock: Clock, stats: Stats) -> None:
    """Run one shopper until the window ends, starting a new draft after an error."""
    conn = Connection(args.port)
    bare = args.mode == "bare"
    first = BARE_START if bare else FIRST_PAGE + (PREFILL if args.prefill else "")
    n = 0
    try:
        while time.perf_counter() < clock.window_end and n < MAX_STEPS_PER_SHOPPER:
            try:
                status, _, page = await conn.request(b"GET", first.encode())
                stats.status("first", status)
                if status != 200:
                    raise RuntimeError(f"first page answered {status}")
                token = token_of(page)
                stats.drafts_started += 1
                # The first press of a draft carries the page's car, as the form does.
                vehicle = hidden_vehicle(page)
                steps = 0
                while time.perf_counter() < clock.window_end and n < MAX_STEPS_PER_SHOPPER:
                    if args.arrive_every and steps == args.arrive_every:
                        break  # another shopper arrives on the first page: a new draft
                    body = form_body(token, index, n) + (vehicle if steps == 0 else b"")
                    n += 1
                    steps += 1
                    t0 = time.perf_counter()
                    stats.posts_sent += 1
                    status, location, page = await conn.request(
                        b"POST", (BARE_STEP if bare else STEP_URL).encode(), body
                    )
                    stats.status("post", status)
                    requests = 1
                    if bare:
                        if status != 200:
                            raise RuntimeError(f"bare POST answered {status}")
                        stats.posts_acked += 1
                    else:
                        if status != 303 or location is None:
                            raise RuntimeError(f"POST answered {status}")
                        stats.posts_acked += 1
                        status, _, page = await conn.request(b"GET", location)
                        stats.status("get", status)
                        requests = 2
                        if status != 200:
                            raise RuntimeError(f"redirected GET answered {status}")
                    t1 = time.perf_counter()
                    if clock.window_start <= t1 <= clock.window_end:
                        stats.latencies.append(t1 - t0)
                        stats.requests_in_window += requests
                        stats.page_bytes = len(page)
                    token = token_of(page)
            except (OSError, RuntimeError, ValueError, asyncio.IncompleteReadError) as exc:
                if len(stats.errors) < 20:
                    stats.errors.append(f"shopper {index}: {type(exc).__name__}: {exc}")
                conn.close()
                await asyncio.sleep(0.05)
    finally:
        conn.close()


def core_ticks() -> dict[str, tuple[int, int]]:
    """(busy, total) clock ticks of each core since boot, from /proc/stat."""
    ticks = {}
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("cpu") and line[3].isdigit():
                name, *values = line.split()
                numbers = [int(v) for v in values[:8]]
                idle = numbers[3] + numbers[4]  # idle + iowait
                ticks[name] = (sum(numbers) - idle, sum(numbers))
    return ticks


def core_busy(
    before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]]
) -> dict[str, float]:
    """Share of each core that was busy between two readings, whoever used it."""
    return {
        name: (after[name][0] - before[name][0]) / max(1, after[name][1] - before[name][1])
        for name in after
        if name in before
    }


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU seconds of a process (this one when pid is None)."""
    if pid is None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measure(args: argparse.Namespace, stats: Stats, run_shopper: Any) -> dict[str, object]:
    """Run `args.connections` shoppers through warm-up and the window; return the figures."""
    clock = Clock(args.warmup, args.duration)
    tasks = [
        asyncio.create_task(run_shopper(i, args, clock, stats)) for i in range(args.connections)
    ]
    await asyncio.sleep(max(0.0, clock.window_start - time.perf_counter()))
    cpu0, server0 = cpu_seconds(None), cpu_seconds(args.server_pid) if args.server_pid else 0.0
    cores0 = core_ticks()
    wall0 = time.perf_counter()
    await asyncio.sleep(max(0.0, clock.window_end - time.perf_counter()))
    wall = time.perf_counter() - wall0
    cpu1, server1 = cpu_seconds(None), cpu_seconds(args.server_pid) if args.server_pid else 0.0
    cores = core_busy(cores0, core_ticks())
    done, pending = await asyncio.wait(tasks, timeout=GRACE_SECONDS)
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending, timeout=5)
    lat = sorted(stats.latencies)

    def pct(p: float) -> float:
        return lat[min(len(lat) - 1, int(round(p * (len(lat) - 1))))] * 1000 if lat else 0.0

    return {
        "connections": args.connections,
        "duration": args.duration,
        "steps": len(lat),
        "steps_per_s": len(lat) / args.duration,
        "requests_per_s": stats.requests_in_window / args.duration,
        "p50_ms": pct(0.50),
        "p90_ms": pct(0.90),
        "p99_ms": pct(0.99),
        "max_ms": lat[-1] * 1000 if lat else 0.0,
        "posts_sent": stats.posts_sent,
        "posts_acked": stats.posts_acked,
        "unfinished_shoppers": len(pending),
        "drafts_started": stats.drafts_started,
        "statuses": stats.statuses,
        "errors": stats.errors,
        "loadgen_cpu": (cpu1 - cpu0) / wall,
        "server_cpu": (server1 - server0) / wall if args.server_pid else None,
        # Busy share of each core from anyone: other work on the machine shows up here.
        "core_busy": cores,
    }


async def main(args: argparse.Namespace) -> dict[str, object]:
    stats = Stats()
    figures = await measure(args, stats, shopper)
    return {"mode": args.mode, **figures, "page_bytes": stats.page_bytes}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--mode", choices=("resume", "bare"), default="resume")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--server-pid", type=int, help="report this process's CPU use too")
    parser.add_argument(
        "--arrive-every", type=int, default=0,
        help="open the first page again (a new draft) after this many steps; 0: never",
    )  # fmt: skip
    parser.add_argument(
        "--prefill", action="store_true", help="the first page carries a vehicle on its URL"
    )
    args = parser.parse_args(argv)
    if not (1 <= args.connections <= 1024 and 0 < args.duration <= 600 and args.warmup <= 120):
        parser.error("connections 1-1024, duration up to 600 s, warm-up up to 120 s")
    return args


if __name__ == "__main__":
    result = asyncio.run(main(parse_args()))
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
