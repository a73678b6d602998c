"""The lead's timeline: an entry added (with the times the team page keeps on the lead's row
from it), the entries read newest first, and the kept times and response minutes filled in
for leads whose timeline began before they were kept."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
from sqlalchemy import bindparam, case, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from resume.queries.staff import SHOWN_NAME
from resume.tables import lead_activity, leads, staff

# Who wrote an entry, named as a lead's owner is.
_OWNER = SHOWN_NAME.label("owner")


async def add_activity(
    conn: AsyncConnection,
    *,
    lead_id: int,
    dealer_id: int,
    staff_id: int | None,
    kind: str,
    at: dt.datetime,
    channel: str | None = None,
    outcome: str | None = None,
    note: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    await conn.execute(
        insert(lead_activity).values(
            lead_id=lead_id,
            dealer_id=dealer_id,
            staff_id=staff_id,
            kind=kind,
            at=at,
            channel=channel,
            outcome=outcome,
            note=note,
            detail=detail or {},
        )
    )
    # Kept on the lead's row, so the team page reads them without going through the timeline.
    # The newest wins, whatever order the entries are written in (the demo writes a past).
    kept: dict[str, Any] = {}
    if staff_id is not None:
        kept["human_at"] = case((leads.c.human_at > at, leads.c.human_at), else_=at)
    if kind == "status":
        # Never before the capture: a lead enters its status no earlier than it became one,
        # which the stuck view's reads rely on (resume.queries.stuck).
        kept["status_at"] = case(
            (leads.c.status_at > at, leads.c.status_at),
            (leads.c.captured_at > at, leads.c.captured_at),
            else_=at,
        )
    if kept:
        await conn.execute(update(leads).where(leads.c.id == lead_id).values(**kept))


class Activity(msgspec.Struct, frozen=True):
    id: int
    at: dt.datetime
    kind: str
    staff: str  # "" for the system
    channel: str | None
    outcome: str | None
    note: str | None
    detail: dict[str, Any]


async def activity(conn: AsyncConnection, lead_id: int) -> list[Activity]:
    result = await conn.execute(
        select(lead_activity, _OWNER)
        .join(staff, staff.c.id == lead_activity.c.staff_id, isouter=True)
        .where(lead_activity.c.lead_id == lead_id)
        .order_by(lead_activity.c.id.desc())
    )
    return [
        Activity(
            id=r.id,
            at=r.at,
            kind=r.kind,
            staff=r.owner or "",
            channel=r.channel,
            outcome=r.outcome,
            note=r.note,
            detail=dict(r.detail or {}),
        )
        for r in result
    ]


async def unmeasured(conn: AsyncConnection, dealer_id: int) -> list[tuple[int, Any, Any]]:
    """Leads answered before their response time was kept: (id, captured, first attempt)."""
    result = await conn.execute(
        select(leads.c.id, leads.c.captured_at, leads.c.first_attempt_at).where(
            leads.c.dealer_id == dealer_id,
            leads.c.first_attempt_at.is_not(None),
            leads.c.response_minutes.is_(None),
        )
    )
    return [(r.id, r.captured_at, r.first_attempt_at) for r in result]


async def keep_timeline_times(conn: AsyncConnection) -> None:
    """`human_at` and `status_at` for leads whose timeline began before they were kept."""
    human = (
        select(func.max(lead_activity.c.at))
        .where(lead_activity.c.lead_id == leads.c.id, lead_activity.c.staff_id.is_not(None))
        .scalar_subquery()
    )
    status = (
        select(func.max(lead_activity.c.at))
        .where(lead_activity.c.lead_id == leads.c.id, lead_activity.c.kind == "status")
        .scalar_subquery()
    )
    await conn.execute(
        update(leads)
        .where(leads.c.human_at.is_(None), leads.c.status_at.is_(None))
        # Never before the capture (as add_activity keeps it); None stays None.
        .values(
            human_at=human,
            status_at=case((status < leads.c.captured_at, leads.c.captured_at), else_=status),
        )
    )


async def keep_response_minutes(conn: AsyncConnection, minutes: dict[int, int]) -> None:
    if minutes:
        await conn.execute(
            update(leads)
            .where(leads.c.id == bindparam("b_id"))
            .values(response_minutes=bindparam("b_minutes")),
            [{"b_id": i, "b_minutes": m} for i, m in minutes.items()],
        )
