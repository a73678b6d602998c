"""Callbacks a rep promised ("I'll call back at 2:30 tomorrow"): kept, done, and the earliest
open one kept on the lead's row for the list's "needs action"."""

from __future__ import annotations

import datetime as dt

import msgspec
from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from resume.leads import CALLBACK_GRACE
from resume.tables import callbacks, leads


class Callback(msgspec.Struct, frozen=True):
    id: int
    lead_id: int
    staff_id: int | None
    due_at: dt.datetime
    note: str | None
    done_at: dt.datetime | None


async def add_callback(
    conn: AsyncConnection,
    *,
    lead_id: int,
    dealer_id: int,
    staff_id: int,
    due_at: dt.datetime,
    note: str,
    now: dt.datetime,
) -> int:
    result = await conn.execute(
        insert(callbacks).values(
            lead_id=lead_id,
            dealer_id=dealer_id,
            staff_id=staff_id,
            due_at=due_at,
            late_at=due_at + CALLBACK_GRACE,
            note=note or None,
            created_at=now,
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    await _next_callback(conn, lead_id)
    return int(key[0])


async def finish_callback(
    conn: AsyncConnection, lead_id: int, callback_id: int, now: dt.datetime
) -> bool:
    result = await conn.execute(
        update(callbacks)
        .where(
            callbacks.c.id == callback_id,
            callbacks.c.lead_id == lead_id,
            callbacks.c.done_at.is_(None),
        )
        .values(done_at=now)
    )
    await _next_callback(conn, lead_id)
    return result.rowcount == 1


async def _next_callback(conn: AsyncConnection, lead_id: int) -> None:
    """Keep the lead's earliest open callback on its row, for the list's "needs action"."""
    earliest = (
        select(func.min(callbacks.c.due_at))
        .where(callbacks.c.lead_id == lead_id, callbacks.c.done_at.is_(None))
        .scalar_subquery()
    )
    await conn.execute(update(leads).where(leads.c.id == lead_id).values(callback_due_at=earliest))


async def open_callbacks(conn: AsyncConnection, lead_id: int) -> list[Callback]:
    result = await conn.execute(
        select(callbacks)
        .where(callbacks.c.lead_id == lead_id, callbacks.c.done_at.is_(None))
        .order_by(callbacks.c.due_at)
    )
    return [Callback(r.id, r.lead_id, r.staff_id, r.due_at, r.note, r.done_at) for r in result]


async def callback(conn: AsyncConnection, callback_id: int) -> Callback | None:
    row = (await conn.execute(select(callbacks).where(callbacks.c.id == callback_id))).first()
    return (
        Callback(row.id, row.lead_id, row.staff_id, row.due_at, row.note, row.done_at)
        if row
        else None
    )
