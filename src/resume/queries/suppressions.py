"""Addresses a dealer must not email: unsubscribed, bounced for good, or entered by staff."""

from __future__ import annotations

import datetime as dt

import msgspec
from sqlalchemy import and_, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from resume.tables import outbox, suppressions


async def add(
    conn: AsyncConnection, dealer_id: int, email: str, reason: str, *, detail: str = ""
) -> int:
    """Suppress `email` for the dealer (again is fine) and cancel what is queued for it.

    Returns how many queued messages were cancelled: the suppression takes effect before the
    next send, including for messages already in the outbox (design rule 7).
    """
    address = email.strip().lower()
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    await conn.execute(
        dialect.insert(suppressions)
        .values(
            dealer_id=dealer_id,
            email=address,
            reason=reason,
            detail=detail[:500] or None,
            at=dt.datetime.now(dt.UTC),
        )
        .on_conflict_do_nothing(index_elements=[suppressions.c.dealer_id, suppressions.c.email])
    )
    cancelled = await conn.execute(
        update(outbox)
        .where(
            and_(
                outbox.c.dealer_id == dealer_id,
                outbox.c.status == "pending",
                func.lower(outbox.c.to_addr) == address,
            )
        )
        .values(status="suppressed", leased_until=None)
    )
    return int(cancelled.rowcount or 0)


async def is_suppressed(conn: AsyncConnection, dealer_id: int, email: str) -> bool:
    query = select(suppressions.c.id).where(
        suppressions.c.dealer_id == dealer_id, suppressions.c.email == email.strip().lower()
    )
    return (await conn.execute(query)).first() is not None


class Suppression(msgspec.Struct, frozen=True):
    id: int
    dealer_id: int
    email: str
    reason: str  # unsubscribe, bounce or manual
    detail: str
    at: dt.datetime


def _suppression(row: object) -> Suppression:
    m = row._mapping  # type: ignore[attr-defined]
    return Suppression(m["id"], m["dealer_id"], m["email"], m["reason"], m["detail"] or "", m["at"])


async def page(
    conn: AsyncConnection,
    *,
    dealer_ids: tuple[int, ...],
    email: str = "",
    before: int | None = None,
    limit: int = 50,
) -> list[Suppression]:
    """These dealerships' suppressed addresses, newest first, a keyset page at a time;
    `email` narrows to the addresses that start with it."""
    query = select(suppressions).where(suppressions.c.dealer_id.in_(dealer_ids))
    if email:
        query = query.where(suppressions.c.email.startswith(email.strip().lower(), autoescape=True))
    if before is not None:
        query = query.where(suppressions.c.id < before)
    result = await conn.execute(query.order_by(suppressions.c.id.desc()).limit(limit))
    return [_suppression(row) for row in result]


async def get(conn: AsyncConnection, suppression_id: int) -> Suppression | None:
    row = (
        await conn.execute(select(suppressions).where(suppressions.c.id == suppression_id))
    ).first()
    return _suppression(row) if row else None


async def remove(conn: AsyncConnection, suppression_id: int) -> bool:
    """Email the address again; never one its owner unsubscribed (only they can undo that)."""
    result = await conn.execute(
        delete(suppressions).where(
            suppressions.c.id == suppression_id, suppressions.c.reason != "unsubscribe"
        )
    )
    return result.rowcount == 1
