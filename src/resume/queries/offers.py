"""An appraiser's trade-in offers, in whole cents so both databases keep them exact."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import msgspec
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from resume.tables import offers


class Offer(msgspec.Struct, frozen=True):
    id: int
    draft_id: str
    low_cents: int
    high_cents: int
    valid_until: dt.datetime
    note: str | None
    created_at: dt.datetime

    @property
    def low(self) -> Decimal:
        return Decimal(self.low_cents) / 100

    @property
    def high(self) -> Decimal:
        return Decimal(self.high_cents) / 100


async def add_offer(conn: AsyncConnection, **values: Any) -> int:
    result = await conn.execute(insert(offers).values(**values))
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


async def latest_offer(conn: AsyncConnection, draft_id: str) -> Offer | None:
    row = (
        await conn.execute(
            select(offers)
            .where(offers.c.draft_id == draft_id)
            .order_by(offers.c.id.desc())
            .limit(1)
        )
    ).first()
    if row is None:
        return None
    return Offer(
        row.id,
        row.draft_id,
        row.low_cents,
        row.high_cents,
        row.valid_until,
        row.note,
        row.created_at,
    )
