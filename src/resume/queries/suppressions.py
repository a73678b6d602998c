"""Addresses a dealer must not email: unsubscribed, bounced for good, or entered by staff."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, func, select, update
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
