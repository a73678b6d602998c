"""Dealers and their staff."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import msgspec
from sqlalchemy import distinct, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from resume.dealers import Dealer, DealerConfig
from resume.dealers.checks import check_config
from resume.errors import ConfigError, Unavailable
from resume.tables import consents, dealer_logos, dealers, drafts, leads, staff

log = logging.getLogger("resume.dealers")

# A dealer with the SHA-256 of its logo file, if we keep one (issue #11, item 4): the widget
# links to it by that digest. A subquery, so FOR UPDATE still locks only the dealer's row.
_LOGO = (
    select(dealer_logos.c.sha256)
    .where(dealer_logos.c.dealer_id == dealers.c.id)
    .scalar_subquery()
    .label("logo_sha256")
)
_DEALER = select(dealers, _LOGO)


def _dealer(row: object) -> Dealer:
    m = row._mapping  # type: ignore[attr-defined]
    try:
        # Settings edited in the database by hand get the checks `resume dealer add` runs.
        config = check_config(msgspec.convert(m["config"], DealerConfig, strict=False))
    except (msgspec.ValidationError, ConfigError) as exc:
        log.error("dealer %s has settings we can't use: %s", m["slug"], exc)
        raise Unavailable(
            "This dealership's form is being set up. Please try again later, or contact the "
            "dealership directly."
        ) from None
    return Dealer(
        id=m["id"],
        slug=m["slug"],
        name=m["name"],
        lead_email=m["lead_email"],
        address=m["address"],
        phone=m["phone"],
        timezone=m["timezone"],
        origins=tuple(m["origins"]),
        config=config,
        logo_file=m.get("logo_sha256") or "",
    )


async def get_by_slug(conn: AsyncConnection, slug: str) -> Dealer | None:
    row = (await conn.execute(_DEALER.where(dealers.c.slug == slug))).first()
    return _dealer(row) if row else None


async def all_dealers(conn: AsyncConnection) -> list[Dealer]:
    """Every dealer whose settings can be used (the others are logged by `_dealer`)."""
    found = []
    for row in await conn.execute(_DEALER.order_by(dealers.c.id)):
        try:
            found.append(_dealer(row))
        except Unavailable:
            continue
    return found


async def raw_config(conn: AsyncConnection, slug: str) -> dict[str, Any] | None:
    """A dealer's settings as stored, even ones that no longer pass the checks."""
    row = (await conn.execute(select(dealers.c.config).where(dealers.c.slug == slug))).first()
    return dict(row.config) if row else None


async def raw_origins(conn: AsyncConnection, slug: str) -> tuple[int, list[str]] | None:
    """A dealer's id and embed origins, as stored."""
    row = (
        await conn.execute(select(dealers.c.id, dealers.c.origins).where(dealers.c.slug == slug))
    ).first()
    return (row.id, list(row.origins)) if row else None


async def set_origins(conn: AsyncConnection, slug: str, origins: list[str]) -> None:
    await conn.execute(update(dealers).where(dealers.c.slug == slug).values(origins=origins))


async def set_config(conn: AsyncConnection, slug: str, config: DealerConfig) -> None:
    await conn.execute(
        update(dealers).where(dealers.c.slug == slug).values(config=msgspec.to_builtins(config))
    )


async def set_details(conn: AsyncConnection, dealer_id: int, **values: str) -> None:
    """Change a dealer's name, lead inbox, address, phone or timezone."""
    await conn.execute(update(dealers).where(dealers.c.id == dealer_id).values(**values))


async def open_leads_untouched_since(
    conn: AsyncConnection, dealer_id: int, cutoff: dt.datetime
) -> int:
    """How many leads not sold or lost have a draft last saved before `cutoff`."""
    query = (
        select(func.count(distinct(leads.c.id)))
        .select_from(leads.join(drafts, drafts.c.lead_id == leads.c.id))
        .where(
            drafts.c.dealer_id == dealer_id,
            drafts.c.updated_at < cutoff,
            leads.c.status.not_in(("sold", "lost")),
        )
    )
    return int((await conn.execute(query)).scalar_one())


async def consent_versions(conn: AsyncConnection, dealer_id: int, limit: int = 50) -> list[Any]:
    """Each wording consents were given to at a dealer: kind, version, words, how many,
    first and last; newest first."""
    last = func.max(consents.c.at)
    query = (
        select(
            consents.c.kind,
            consents.c.text_version,
            func.min(consents.c.text),
            func.count(),
            func.min(consents.c.at),
            last,
        )
        .select_from(consents.join(drafts, drafts.c.id == consents.c.draft_id))
        .where(drafts.c.dealer_id == dealer_id)
        .group_by(consents.c.kind, consents.c.text_version, consents.c.text_hash)
        .order_by(last.desc())
        .limit(limit)
    )
    return [tuple(row) for row in await conn.execute(query)]


async def get(conn: AsyncConnection, dealer_id: int, *, for_update: bool = False) -> Dealer | None:
    """A dealer; `for_update` locks its row until the transaction ends (PostgreSQL; a SQLite
    write transaction holds the whole database already)."""
    query = _DEALER.where(dealers.c.id == dealer_id)
    locked = query.with_for_update(of=dealers) if for_update else query
    row = (await conn.execute(locked)).first()
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
