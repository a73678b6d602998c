"""bench/loadgen.py's shoppers, adapted to the Django + django-formtools peer (bench/README.md).

Same approach and the same plumbing (bench/loadgen.py's connection, clock and CPU readings are
imported): one asyncio task per keep-alive connection, hand-built HTTP/1.1 requests. What a
Django shopper adds is what a browser carries for Django: the cookies (`csrftoken`,
`sessionid`, updated from every Set-Cookie) and the form's `csrfmiddlewaretoken`, taken from
the latest page, as is the wizard's management field (`<prefix>-current_step`).

Each shopper opens the wizard (GET; Django creates its session and CSRF cookie), then loops:

- **the step (timed)**: POST the first step's 7 fields (`0-condition` ... `0-price`, price
  changing on every post and the model every fourth, as in ours) with the management form and
  the CSRF token, and read what shows step 2: SessionWizardView answers with the page itself
  (200); NamedUrlSessionWizardView (`--view named`) redirects and the GET is part of the step.
  The page must show step 2 (its management field says 1), or the step counts as an error.
- **back to step 1**: with `--loop goto` (the default), POST step 2's form as a browser does
  when Back is pressed (`wizard_goto_step=0`, step 2's empty fields, the token), and read the
  page of step 1 (after the redirect, in the named variant). Not part of the step's latency,
  but its requests are counted and its server CPU is in the figures. With `--loop repost` the
  next step-1 POST is sent straight from the step-2 page, like a browser's Back button and
  Continue again (formtools' "form refreshed" path), which is what ours' shoppers do.

Prints one JSON object on stdout; run.py starts it pinned to its own core. Talks to 127.0.0.1
only; every loop is bounded by time and count.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from loadgen import (  # noqa: E402  (bench/loadgen.py)
    HOST,
    MAX_STEPS_PER_SHOPPER,
    MODELS,
    Clock,
    Connection,
    Stats,
    measure,
)

CSRF = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')
MANAGEMENT = re.compile(rb'name="([a-z_]+-current_step)" value="([^"]*)"')
STEP2_EMPTY = b"&1-down_payment=&1-trade_value=&1-trade_payoff=&1-term="


class BrowserConnection(Connection):
    """A keep-alive connection that also keeps cookies, as a browser would for one site."""

    def __init__(self, port: int) -> None:
        super().__init__(port)
        self.cookies: dict[bytes, bytes] = {}

    async def request(
        self, method: bytes, path: bytes, body: bytes = b""
    ) -> tuple[int, bytes | None, bytes]:
        if self.writer is None:
            await self.open()
        assert self.reader is not None and self.writer is not None
        head = b"%s %s HTTP/1.1\r\n%sUser-Agent: resume-bench\r\nAccept: text/html\r\n" % (
            method,
            path,
            self.host_header,
        )
        if self.cookies:
            head += b"Cookie: %s\r\n" % b"; ".join(b"%s=%s" % kv for kv in self.cookies.items())
        if method == b"POST":
            head += (
                b"Content-Type: application/x-www-form-urlencoded\r\n"
                b"Content-Length: %d\r\n" % len(body)
            )
        self.writer.write(head + b"\r\n" + body)
        raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length, location, chunked, close = 0, None, False, False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"location":
                location = value.strip()
            elif name == b"set-cookie":
                pair = value.strip().split(b";", 1)[0]
                key, _, val = pair.partition(b"=")
                self.cookies[key.strip()] = val.strip()
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
            elif name == b"connection" and b"close" in value.lower():
                close = True
        if chunked:
            content = await self._chunks()
        else:
            content = await self.reader.readexactly(length) if length else b""
        if close:  # gunicorn's sync worker closes after every response; reconnect next time
            self.close()
        return status, location, content


class Page:
    """What the next POST needs from a wizard page: the CSRF token and the management field."""

    def __init__(self, content: bytes) -> None:
        csrf = CSRF.search(content)
        management = MANAGEMENT.search(content)
        if csrf is None or management is None:
            raise ValueError("page has no csrfmiddlewaretoken or management form")
        self.csrf = csrf.group(1)
        self.management, self.step = management.group(1), management.group(2)


def step1_body(page: Page, shopper: int, n: int) -> bytes:
    """The vehicle step as a browser posts it from the wizard's form (same values as ours)."""
    price = 18_000 + (shopper * 7919 + n * 37) % 40_000
    model = MODELS[(shopper + n // 4) % len(MODELS)]
    condition = b"used" if (n // 10) % 2 else b"new"
    return (
        b"csrfmiddlewaretoken=%s&%s=0&0-condition=%s&0-year=2024&0-make=Toyota&0-model=%s"
        b"&0-trim=XLE&0-stock_number=&0-price=%d"
        % (page.csrf, page.management, condition, model, price)
    )


def back_body(page: Page) -> bytes:
    """Step 2's form posted with its Back button (wizard_goto_step), fields left empty."""
    return b"csrfmiddlewaretoken=%s&%s=1%s&wizard_goto_step=0" % (
        page.csrf,
        page.management,
        STEP2_EMPTY,
    )


async def show(
    conn: BrowserConnection, method: bytes, path: bytes, body: bytes, named: bool, stats: Stats
) -> tuple[Page, int]:
    """One browser action: the request, plus the GET of the redirect (named view); the page."""
    status, location, content = await conn.request(method, path, body)
    stats.status(method.decode().lower(), status)
    requests = 1
    if named and status == 302 and location is not None:
        status, location, content = await conn.request(b"GET", location)
        stats.status("get", status)
        requests = 2
    if status != 200:
        raise RuntimeError(f"{method.decode()} {path.decode()} answered {status}")
    return Page(content), requests


async def shopper(index: int, args: argparse.Namespace, clock: Clock, stats: Stats) -> None:
    conn = BrowserConnection(args.port)
    named = args.view == "named"
    start = b"/named/" if named else b"/wizard/"
    step1 = b"/named/0/" if named else b"/wizard/"
    step2 = b"/named/1/" if named else b"/wizard/"
    n = 0

    def inside(t: float) -> bool:
        return clock.window_start <= t <= clock.window_end

    try:
        while time.perf_counter() < clock.window_end and n < MAX_STEPS_PER_SHOPPER:
            try:
                conn.cookies.clear()  # a new visitor: Django starts a new session
                page, _ = await show(conn, b"GET", start, b"", named, stats)
                if page.step != b"0":
                    raise RuntimeError(f"the wizard opened on step {page.step!r}")
                stats.drafts_started += 1
                while time.perf_counter() < clock.window_end and n < MAX_STEPS_PER_SHOPPER:
                    body = step1_body(page, index, n)
                    n += 1
                    t0 = time.perf_counter()
                    stats.posts_sent += 1
                    page, requests = await show(conn, b"POST", step1, body, named, stats)
                    if page.step != b"1":
                        raise RuntimeError(f"step 1 not accepted (page shows {page.step!r})")
                    stats.posts_acked += 1
                    t1 = time.perf_counter()
                    if inside(t1):
                        stats.latencies.append(t1 - t0)
                        stats.requests_in_window += requests
                    if args.loop == "goto" and time.perf_counter() < clock.window_end:
                        page, requests = await show(
                            conn, b"POST", step2, back_body(page), named, stats
                        )
                        if page.step != b"0":
                            raise RuntimeError(f"Back did not show step 1 ({page.step!r})")
                        if inside(time.perf_counter()):
                            stats.requests_in_window += requests
                            stats.backs_in_window += 1
            except (OSError, RuntimeError, ValueError, asyncio.IncompleteReadError) as exc:
                if len(stats.errors) < 20:
                    stats.errors.append(f"shopper {index}: {type(exc).__name__}: {exc}")
                conn.close()
                await asyncio.sleep(0.05)
    finally:
        conn.close()


async def main(args: argparse.Namespace) -> dict[str, object]:
    stats = Stats()
    stats.backs_in_window = 0  # type: ignore[attr-defined]
    figures = await measure(args, stats, shopper)
    backs = stats.backs_in_window / args.duration  # type: ignore[attr-defined]
    return {"mode": f"django-{args.view}-{args.loop}", **figures, "backs_per_s": backs}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--view", choices=("session", "named"), default="session")
    parser.add_argument("--loop", choices=("goto", "repost"), default="goto")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--server-pid", type=int, help="report this process's CPU use too")
    args = parser.parse_args(argv)
    if not (1 <= args.connections <= 1024 and 0 < args.duration <= 600 and args.warmup <= 120):
        parser.error("connections 1-1024, duration up to 600 s, warm-up up to 120 s")
    return args


if __name__ == "__main__":
    assert HOST == "127.0.0.1"
    result = asyncio.run(main(parse_args()))
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
