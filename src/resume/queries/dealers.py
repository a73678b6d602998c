"""Dealers and their staff."""

from __future__ import annotations

import datetime as dt

import msgspec
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from resume.dealers import Dealer, DealerConfig
from resume.tables import dealers, staff


def _dealer(row: object) -> Dealer:
    m = row._mapping  # type: ignore[attr-defined]
    return Dealer(
        id=m["id"],
        slug=m["slug"],
        name=m["name"],
        lead_email=m["lead_email"],
        address=m["address"],
        phone=m["phone"],
        timezone=m["timezone"],
        origins=tuple(m["origins"]),
        config=msgspec.convert(m["config"], DealerConfig, strict=False),
    )


async def get_by_slug(conn: AsyncConnection, slug: str) -> Dealer | None:
    row = (await conn.execute(select(dealers).where(dealers.c.slug == slug))).first()
    return _dealer(row) if row else None


async def all_dealers(conn: AsyncConnection) -> list[Dealer]:
    result = await conn.execute(select(dealers).order_by(dealers.c.id))
    return [_dealer(row) for row in result]


async def get(conn: AsyncConnection, dealer_id: int) -> Dealer | None:
    row = (await conn.execute(select(dealers).where(dealers.c.id == dealer_id))).first()
    return _dealer(row) if row else None


async def add(
    conn: AsyncConnection,
    *,
    slug: str,
    name: str,
    lead_email: str,
    address: str,
    phone: str,
    timezone: str,
    origins: tuple[str, ...],
    config: DealerConfig,
) -> Dealer:
    result = await conn.execute(
        insert(dealers).values(
            slug=slug,
            name=name,
            lead_email=lead_email,
            address=address,
            phone=phone,
            timezone=timezone,
            origins=list(origins),
            config=msgspec.to_builtins(config),
            created_at=dt.datetime.now(dt.UTC),
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    dealer = await get(conn, key[0])
    assert dealer is not None
    return dealer


async def staff_exists(conn: AsyncConnection, dealer_id: int, email: str) -> bool:
    query = select(staff.c.id).where(staff.c.dealer_id == dealer_id, staff.c.email == email)
    return (await conn.execute(query)).first() is not None


async def add_staff(conn: AsyncConnection, dealer_id: int, email: str, role: str) -> int:
    result = await conn.execute(
        insert(staff).values(
            dealer_id=dealer_id, email=email, role=role, created_at=dt.datetime.now(dt.UTC)
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])
