"""The audit: an append-only record of what staff did (design rule 11).

Rows are written in the same transaction as what they record, and never changed: the
database itself refuses an UPDATE or a DELETE (alembic 0006). Details hold ids, names of
fields and reasons, never a shopper's sensitive value.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
from sqlalchemy import Connection, String, and_, cast, insert, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from resume.tables import audit, staff, staff_dealers


class Entry(msgspec.Struct, frozen=True):
    id: int
    at: dt.datetime
    staff_id: int | None
    staff_email: str | None
    dealer_id: int | None
    action: str
    subject: str
    detail: dict[str, Any]
    ip: str


def _row(
    action: str,
    *,
    at: dt.datetime,
    staff_id: int | None = None,
    dealer_id: int | None = None,
    subject: str = "",
    detail: dict[str, Any] | None = None,
    ip: str = "",
) -> dict[str, Any]:
    return {
        "at": at,
        "staff_id": staff_id,
        "dealer_id": dealer_id,
        "action": action,
        "subject": subject[:64],
        "detail": detail or {},
        "ip": ip[:64],
    }


async def record(conn: AsyncConnection, action: str, **fields: Any) -> None:
    """Append one entry, in the caller's transaction."""
    await conn.execute(insert(audit).values(**_row(action, **fields)))


def record_sync(conn: Connection, action: str, **fields: Any) -> None:
    conn.execute(insert(audit).values(**_row(action, **fields)))


async def page(
    conn: AsyncConnection,
    *,
    dealer_ids: tuple[int, ...],
    action: str = "",
    staff_id: int | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    before: tuple[dt.datetime, int] | None = None,
    limit: int = 50,
) -> list[Entry]:
    """Newest first, a keyset page at a time; entries of the account's dealerships, and
    those that belong to none (sign-ins, lockouts, invitations and disables from the command
    line) done by or to the account's people."""
    people = select(staff_dealers.c.staff_id).where(staff_dealers.c.dealer_id.in_(dealer_ids))
    about_people = select(literal("staff:").concat(cast(staff_dealers.c.staff_id, String))).where(
        staff_dealers.c.dealer_id.in_(dealer_ids)
    )
    scope = or_(
        audit.c.dealer_id.in_(dealer_ids),
        and_(
            audit.c.dealer_id.is_(None),
            or_(audit.c.staff_id.in_(people), audit.c.subject.in_(about_people)),
        ),
    )
    query = (
        select(audit, staff.c.email.label("staff_email"))
        .join(staff, staff.c.id == audit.c.staff_id, isouter=True)
        .where(scope)
    )
    if action:
        query = query.where(audit.c.action == action)
    if staff_id is not None:
        query = query.where(audit.c.staff_id == staff_id)
    if since is not None:
        query = query.where(audit.c.at >= since)
    if until is not None:
        query = query.where(audit.c.at < until)
    if before is not None:
        query = query.where(
            or_(audit.c.at < before[0], and_(audit.c.at == before[0], audit.c.id < before[1]))
        )
    query = query.order_by(audit.c.at.desc(), audit.c.id.desc()).limit(limit)
    return [
        Entry(
            id=row.id,
            at=row.at,
            staff_id=row.staff_id,
            staff_email=row.staff_email,
            dealer_id=row.dealer_id,
            action=row.action,
            subject=row.subject,
            detail=dict(row.detail or {}),
            ip=row.ip,
        )
        for row in await conn.execute(query)
    ]
