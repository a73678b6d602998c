"""A dealership's logo file, set or removed by its admin or on the command line (issue #11,
item 4): checked before anything is stored, stored with an audit row saying what it was and
what it became, like every other settings change."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from resume.db import Database
from resume.dealers import Dealer
from resume.errors import NotFound
from resume.logos import LogoFile, check_logo_file
from resume.queries import audit as audit_q
from resume.queries import logos as logos_q
from resume.queries.staff import Account
from resume.staff.roles import role


def described(logo: LogoFile | None) -> dict[str, Any] | None:
    """What the audit keeps of a logo file: its kind, size and digest, never its bytes."""
    if logo is None:
        return None
    return {"type": logo.content_type, "bytes": len(logo.body), "sha256": logo.sha256}


async def change_logo(
    conn: AsyncConnection,
    dealer_id: int,
    slug: str,
    logo: LogoFile | None,
    *,
    staff_id: int | None,
    ip: str = "",
) -> bool:
    """Store `logo` as the dealer's file (None removes it) with its audit row, in the
    caller's transaction; False when nothing changed (the same file, or none to remove)."""
    before = await logos_q.get(conn, dealer_id)
    if (before.sha256 if before else None) == (logo.sha256 if logo else None):
        return False
    now = dt.datetime.now(dt.UTC)
    if logo is None:
        await logos_q.remove(conn, dealer_id)
    else:
        await logos_q.put(conn, dealer_id, logo, now)
    await audit_q.record(
        conn,
        "settings_changed",
        at=now,
        staff_id=staff_id,
        dealer_id=dealer_id,
        subject=f"dealer:{slug}",
        ip=ip,
        detail={
            "section": "branding",
            "before": {"logo_file": described(before)},
            "after": {"logo_file": described(logo)},
            "by": "dashboard" if staff_id else "command line",
        },
    )
    return True


class Logos:
    """The branding page's logo file, for accounts whose role may manage (admins) and only
    for the dealership the caller already found they cover (Dealership.get)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def _may(self, account: Account, dealer: Dealer) -> None:
        if not role(account.role).may_manage or dealer.id not in account.dealer_ids:
            raise NotFound()

    async def current(self, account: Account, dealer: Dealer) -> dict[str, Any] | None:
        """The stored file as the page describes it, or None."""
        self._may(account, dealer)
        async with self.db.read() as conn:
            return described(await logos_q.get(conn, dealer.id))

    async def upload(self, account: Account, dealer: Dealer, body: bytes, ip: str = "") -> bool:
        """Check `body` (a 400 or 413 says why it is refused, and nothing is stored), then
        store it as the dealership's logo file."""
        self._may(account, dealer)
        logo = check_logo_file(body)
        async with self.db.write() as conn:
            return await change_logo(conn, dealer.id, dealer.slug, logo, staff_id=account.id, ip=ip)

    async def remove(self, account: Account, dealer: Dealer, ip: str = "") -> bool:
        self._may(account, dealer)
        async with self.db.write() as conn:
            return await change_logo(conn, dealer.id, dealer.slug, None, staff_id=account.id, ip=ip)
