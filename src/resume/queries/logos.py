"""Dealers' logo files (issue #11, item 4): one a dealer at most, replaced whole."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from resume.logos import LogoFile
from resume.tables import dealer_logos


async def get(conn: AsyncConnection, dealer_id: int) -> LogoFile | None:
    query = select(dealer_logos.c.content_type, dealer_logos.c.body, dealer_logos.c.sha256)
    row = (await conn.execute(query.where(dealer_logos.c.dealer_id == dealer_id))).first()
    return LogoFile(row.content_type, bytes(row.body), row.sha256) if row else None


async def digest(conn: AsyncConnection, dealer_id: int) -> str | None:
    """The stored file's SHA-256, without reading its bytes; None when there is none."""
    query = select(dealer_logos.c.sha256).where(dealer_logos.c.dealer_id == dealer_id)
    return (await conn.execute(query)).scalar_one_or_none()


async def put(conn: AsyncConnection, dealer_id: int, logo: LogoFile, at: dt.datetime) -> None:
    """Store `logo` as the dealer's, in place of any before (in the caller's transaction)."""
    await conn.execute(delete(dealer_logos).where(dealer_logos.c.dealer_id == dealer_id))
    await conn.execute(
        insert(dealer_logos).values(
            dealer_id=dealer_id,
            content_type=logo.content_type,
            body=logo.body,
            sha256=logo.sha256,
            updated_at=at,
        )
    )


async def remove(conn: AsyncConnection, dealer_id: int) -> None:
    await conn.execute(delete(dealer_logos).where(dealer_logos.c.dealer_id == dealer_id))
