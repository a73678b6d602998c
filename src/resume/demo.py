"""The demo dealership: Demo Motors, with sensible finance defaults and a staff placeholder."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from resume.db import Database
from resume.dealers import DealerConfig, check_config
from resume.queries import dealers as dealers_q
from resume.settings import Settings

SLUG = "demo-motors"


def demo_origin(base_url: str) -> str:
    """Return the origin the demo page is served from: the widget's host, swapped.

    The demo must be honest about third-party context (issue #2, item 3): the widget runs on
    127.0.0.1 and the dealer page on localhost, or the other way round.
    """
    parts = urlsplit(base_url)
    host = parts.hostname or "127.0.0.1"
    other = {"127.0.0.1": "localhost", "localhost": "127.0.0.1"}.get(host, host)
    netloc = other + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, "", "", ""))


# Who Demo Motors is; the benchmark's baseline route renders the same dealer.
DETAILS = {
    "name": "Demo Motors",
    "lead_email": "leads@demo-motors.example",
    "address": "1200 Example Avenue, Springfield, IL 62701",
    "phone": "(217) 555-0142",
    "timezone": "America/Chicago",
}


async def seed(settings: Settings) -> bool:
    """Create Demo Motors unless it exists; return whether it was created."""
    db = Database(settings)
    try:
        async with db.write() as conn:
            if await dealers_q.get_by_slug(conn, SLUG):
                return False
            dealer = await dealers_q.add(
                conn,
                slug=SLUG,
                origins=(demo_origin(settings.base_url),),
                config=check_config(DealerConfig()),
                **DETAILS,
            )
            await dealers_q.add_staff(conn, dealer.id, "sales@demo-motors.example", "sales")
        return True
    finally:
        await db.dispose()
