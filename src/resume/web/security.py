"""Response headers that keep pages script-free and frameable only where allowed, and a
per-client rate limit.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Any

from resume.errors import TooManyRequests

# Set on a request that came as HEAD and is served as its GET: nothing it does is recorded.
HEAD = "resume.head"

BASE_CSP = (
    "default-src 'none'; script-src 'none'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; base-uri 'none'"
)


def widget_headers(
    origins: tuple[str, ...], *, image_origins: tuple[str, ...] = ()
) -> dict[str, str]:
    """Headers for pages a dealer frames: exactly its origins, never '*' (issue #2, item 10).
    `image_origins` (each one of the dealer's checked origins: its logo's) may serve the
    page images too, and no other site (issue #11, item 4)."""
    ancestors = " ".join(origins) if origins else "'none'"
    csp = BASE_CSP
    if image_origins:
        extra = " ".join(dict.fromkeys(image_origins))
        csp = csp.replace("img-src 'self' data:", f"img-src 'self' data: {extra}")
    return {
        "Content-Security-Policy": f"{csp}; frame-ancestors {ancestors}",
        # Credentials ride in URLs on these pages; they must not leak to other sites.
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
    }


def page_headers(*, frame_src: str = "", no_store: bool = True) -> dict[str, str]:
    """Headers for every other page: never framed."""
    csp = f"{BASE_CSP}; frame-ancestors 'none'"
    if frame_src:
        csp += f"; frame-src {frame_src}"
    headers = {
        "Content-Security-Policy": csp,
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
    }
    if no_store:
        headers["Cache-Control"] = "no-store"
    return headers


# What every response gets unless it set its own (widget pages set their frame-ancestors).
_DEFAULTS = {
    b"content-security-policy": f"{BASE_CSP}; frame-ancestors 'none'".encode(),
    b"x-content-type-options": b"nosniff",
    b"referrer-policy": b"no-referrer",
}


async def secure_headers(message: Any, scope: Any) -> None:
    """Add the security headers to every response, whatever made it: a page, a redirect, an
    error, health, or Litestar's own answer to OPTIONS (issue #12: the one place)."""
    if message["type"] != "http.response.start":
        return
    headers = list(message.get("headers") or [])
    present = {name.lower() for name, _ in headers}
    for name, value in _DEFAULTS.items():
        if name not in present:
            headers.append((name, value))
    csp = next(v for n, v in headers if n.lower() == b"content-security-policy")
    # A page only its dealer may frame says so in its CSP; every other page is never framed.
    if b"frame-ancestors 'none'" in csp and b"x-frame-options" not in present:
        headers.append((b"x-frame-options", b"DENY"))
    message["headers"] = headers


class RateLimiter:
    """Fixed windows per key (a minute unless told), in this process; old keys are forgotten."""

    def __init__(self, per_minute: int, *, window: int = 60, max_keys: int = 100_000) -> None:
        self.per_minute = per_minute
        self.window = window
        self.max_keys = max_keys
        self._windows: OrderedDict[str, tuple[int, int]] = OrderedDict()

    def hit(self, key: str, now: float | None = None) -> None:
        """Count one request for `key`; raise TooManyRequests past the limit."""
        minute = int((time.monotonic() if now is None else now) // self.window)
        window, count = self._windows.get(key, (minute, 0))
        if window != minute:
            count = 0
        count += 1
        self._windows[key] = (minute, count)
        self._windows.move_to_end(key)
        if len(self._windows) > self.max_keys:
            self._windows.popitem(last=False)
        if count > self.per_minute:
            raise TooManyRequests(
                "You've sent a lot of answers in a short time, so we didn't save this last "
                "press. Your earlier answers are saved: wait a minute and press the button again."
            )
