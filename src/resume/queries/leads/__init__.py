"""Leads: one shopper at one dealership, the drafts that share their email or phone.

A lead is made, and given an owner by round-robin, in the same transaction as the save that
first captures a valid email or phone (the autosave batch calls `capture`); every later save
of its drafts moves its activity (`touch`). Everything the lead list shows is on the lead's
own row, so a page of the list reads one index led by the dealership (design rule 12).

Here is the lead itself: its row as the list and the case page read it, its owner, its
drafts, and a change to its columns with what moves with it. capture holds what the write
path does to leads (a lead made or joined, its activity moved, the shopper's exit); activity
holds the lead's timeline and the times the team page keeps on the lead's row from it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from resume.queries import outbox as outbox_q
from resume.queries import team_counts
from resume.queries.leads.activity import (
    Activity,
    activity,
    add_activity,
    keep_response_minutes,
    keep_timeline_times,
    unmeasured,
)
from resume.queries.leads.capture import Captured, capture, record_exit, touch
from resume.queries.staff import SHOWN_NAME
from resume.tables import drafts, leads, staff

__all__ = [
    "FIGURES",
    "Activity",
    "Captured",
    "Lead",
    "activity",
    "add_activity",
    "capture",
    "change",
    "draft_ids",
    "get",
    "keep_response_minutes",
    "keep_timeline_times",
    "lead_from",
    "owner_email",
    "record_exit",
    "select_leads",
    "stop_followups",
    "sync_drafts",
    "touch",
    "unmeasured",
]


class Lead(msgspec.Struct, frozen=True):
    id: int
    dealer_id: int
    email: str | None
    phone: str | None
    name: str
    status: str
    lost_reason: str | None
    appointment_at: dt.datetime | None
    owner_id: int | None
    owner: str  # the owner's name or email; "" when unassigned
    captured_at: dt.datetime
    first_attempt_at: dt.datetime | None
    last_attempt_at: dt.datetime | None
    attempts: int
    touches_sent: int  # automatic follow-ups sent so far
    last_activity_at: dt.datetime
    widgets: tuple[str, ...]
    widget: str
    step: str
    exit_at: dt.datetime | None
    exit_step: str | None
    exit_field: str | None
    came_back_at: dt.datetime | None
    callback_due_at: dt.datetime | None
    duplicate_of: int | None
    followup_stopped: bool
    demo: bool

    @property
    def came_back(self) -> bool:
        """Back since the last human attempt: the warmest lead there is."""
        if self.came_back_at is None:
            return False
        return self.last_attempt_at is None or self.came_back_at > self.last_attempt_at


# A lead's owner, by name.
_OWNER = SHOWN_NAME.label("owner")


def lead_from(row: Any) -> Lead:
    m = row._mapping
    return Lead(
        id=m["id"],
        dealer_id=m["dealer_id"],
        email=m["email"],
        phone=m["phone"],
        name=m["name"],
        status=m["status"],
        lost_reason=m["lost_reason"],
        appointment_at=m["appointment_at"],
        owner_id=m["owner_id"],
        owner=m["owner"] or "",
        captured_at=m["captured_at"],
        first_attempt_at=m["first_attempt_at"],
        last_attempt_at=m["last_attempt_at"],
        attempts=m["attempts"],
        touches_sent=m["touches_sent"],
        last_activity_at=m["last_activity_at"],
        widgets=tuple(w for w in m["widgets"].split(",") if w),
        widget=m["widget"],
        step=m["step"],
        exit_at=m["exit_at"],
        exit_step=m["exit_step"],
        exit_field=m["exit_field"],
        came_back_at=m["came_back_at"],
        callback_due_at=m["callback_due_at"],
        duplicate_of=m["duplicate_of"],
        followup_stopped=bool(m["followup_stopped"]),
        demo=bool(m["demo"]),
    )


def select_leads() -> Any:
    return select(leads, _OWNER).join(staff, staff.c.id == leads.c.owner_id, isouter=True)


async def owner_email(conn: AsyncConnection, lead_id: int) -> str | None:
    """The email of the lead's owner, if it has an active one."""
    return (
        await conn.execute(
            select(staff.c.email)
            .join(leads, leads.c.owner_id == staff.c.id)
            .where(leads.c.id == lead_id, staff.c.status == "active")
        )
    ).scalar_one_or_none()


async def get(conn: AsyncConnection, lead_id: int, dealer_ids: tuple[int, ...]) -> Lead | None:
    """The lead, if it belongs to one of `dealer_ids`; otherwise None, as if there were none."""
    row = (
        await conn.execute(
            select_leads().where(leads.c.id == lead_id, leads.c.dealer_id.in_(dealer_ids))
        )
    ).first()
    return lead_from(row) if row else None


async def draft_ids(conn: AsyncConnection, lead_id: int) -> list[str]:
    """The lead's drafts, oldest first."""
    result = await conn.execute(
        select(drafts.c.id).where(drafts.c.lead_id == lead_id).order_by(drafts.c.created_at)
    )
    return list(result.scalars())


# What a lead counts for on the team page (resume.queries.team_counts).
FIGURES = frozenset(
    (
        "captured_day",
        "owner_id",
        "attempts",
        "response_minutes",
        "contacted_at",
        "appointment_set_at",
        "shown_at",
        "sold_at",
    )
)


async def change(conn: AsyncConnection, lead_id: int, **values: Any) -> None:
    """Change the lead's columns; a change of what it counts for on the team page moves its
    part there in the same transaction."""
    query = update(leads).where(leads.c.id == lead_id).values(**values)
    if FIGURES.isdisjoint(values):
        await conn.execute(query)
        return
    async with team_counts.keeping(conn, lead_id):
        await conn.execute(query)


async def sync_drafts(conn: AsyncConnection, lead_id: int, status: str) -> None:
    """Write the lead's status onto its drafts: the follow-up stop rules read it there."""
    await conn.execute(update(drafts).where(drafts.c.lead_id == lead_id).values(lead_status=status))


async def stop_followups(conn: AsyncConnection, lead_id: int) -> int:
    ids = await draft_ids(conn, lead_id)
    return int(await conn.run_sync(outbox_q.stop_followups, ids))
