"""Leads: one shopper at one dealership, the drafts that share their email or phone.

A lead is made, and given an owner by round-robin, in the same transaction as the save that
first captures a valid email or phone (the autosave batch calls `capture`); every later save
of its drafts moves its activity (`touch`). Everything the lead list shows is on the lead's
own row, so a page of the list reads one index led by the dealership (design rule 12).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
from sqlalchemy import (
    Boolean,
    Connection,
    and_,
    bindparam,
    case,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from resume.queries import outbox as outbox_q
from resume.queries import staff as staff_q
from resume.queries import team_counts
from resume.tables import (
    dealers,
    drafts,
    lead_activity,
    leads,
    staff,
)


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


_OWNER = func.coalesce(func.nullif(staff.c.name, ""), staff.c.email, "").label("owner")


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


class Captured(msgspec.Struct, frozen=True):
    """A draft that has an email or a phone and no lead yet, as a save left it."""

    draft_id: str
    dealer_id: int
    widget: str
    step: str
    email: str | None
    phone: str | None
    name: str
    at: dt.datetime
    demo: bool = False
    # The draft's cohort in the funnel: a new lead's downstream stages count in it.
    cohort_day: str | None = None
    cohort_source: str = ""


def capture(conn: Connection, found: list[Captured]) -> dict[str, int]:
    """Give each draft its lead: the dealership's lead with the same email (else the same
    phone), or a new one with an owner by round-robin. Return the lead id of each draft.

    A draft whose email is one lead's and whose phone is another's joins the first, and the
    second is marked as its possible duplicate.
    """
    made: dict[str, int] = {}
    fresh: list[team_counts.Part] = []
    for draft in found:
        email = draft.email.lower() if draft.email else None
        by_email = _find(conn, draft.dealer_id, leads.c.email, email)
        by_phone = _find(conn, draft.dealer_id, leads.c.phone, draft.phone)
        lead_id = by_email or by_phone
        if lead_id is None:
            lead_id, part = _create(conn, draft, email)
            fresh.append(part)
        else:
            conn.execute(
                update(leads)
                .where(leads.c.id == lead_id)
                .values(
                    email=func.coalesce(leads.c.email, email),
                    phone=func.coalesce(leads.c.phone, draft.phone),
                    name=case((leads.c.name == "", draft.name), else_=leads.c.name),
                    widgets=_add_widget(draft.widget),
                    widget=draft.widget,
                    step=draft.step,
                    last_activity_at=draft.at,
                )
            )
            if by_email and by_phone and by_email != by_phone:
                conn.execute(
                    update(leads)
                    .where(leads.c.id == max(by_email, by_phone))
                    .values(duplicate_of=min(by_email, by_phone))
                )
        conn.execute(update(drafts).where(drafts.c.id == draft.draft_id).values(lead_id=lead_id))
        made[draft.draft_id] = lead_id
    team_counts.add(conn, fresh)
    return made


def _find(conn: Connection, dealer_id: int, column: Any, value: str | None) -> int | None:
    if not value:
        return None
    return conn.execute(
        select(leads.c.id)
        .where(leads.c.dealer_id == dealer_id, column == value)
        .order_by(leads.c.id)
        .limit(1)
    ).scalar_one_or_none()


def _create(conn: Connection, draft: Captured, email: str | None) -> tuple[int, team_counts.Part]:
    """A new lead for the draft, and what it counts for on the team page."""
    owner = None if draft.demo else staff_q.next_owner(conn, draft.dealer_id, draft.at)
    zone = conn.execute(
        select(dealers.c.timezone).where(dealers.c.id == draft.dealer_id)
    ).scalar_one()
    day = team_counts.day_of(draft.at, zone)
    result = conn.execute(
        insert(leads).values(
            dealer_id=draft.dealer_id,
            email=email,
            phone=draft.phone,
            name=draft.name,
            owner_id=owner,
            captured_at=draft.at,
            last_activity_at=draft.at,
            widgets=draft.widget,
            widget=draft.widget,
            step=draft.step,
            demo=draft.demo,
            cohort_day=draft.cohort_day,
            cohort_widget=draft.widget,
            cohort_source=draft.cohort_source,
            captured_day=day,
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0]), team_counts.fresh(draft.dealer_id, day, owner)


def _add_widget(widget: str) -> Any:
    listed = "," + leads.c.widgets + ","
    return case(
        (leads.c.widgets == "", widget),
        (listed.contains(f",{widget},"), leads.c.widgets),
        else_=leads.c.widgets + f",{widget}",
    )


# A save of a draft that has a lead: the lead's activity moves, and a shopper who was gone
# is back (rows keyed b_lead, b_at, b_widget, b_step, b_back, b_name).
_TOUCH = (
    update(leads)
    .where(leads.c.id == bindparam("b_lead"))
    .values(
        last_activity_at=bindparam("b_at"),
        widget=bindparam("b_widget"),
        step=bindparam("b_step"),
        exit_at=None,
        came_back_at=case(
            (bindparam("b_back", type_=Boolean()), bindparam("b_at")),
            else_=leads.c.came_back_at,
        ),
        name=case(
            (and_(leads.c.name == "", bindparam("b_name") != ""), bindparam("b_name")),
            else_=leads.c.name,
        ),
    )
)


def touch(conn: Connection, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(_TOUCH, rows)


async def owner_email(conn: AsyncConnection, lead_id: int) -> str | None:
    """The email of the lead's owner, if it has an active one."""
    return (
        await conn.execute(
            select(staff.c.email)
            .join(leads, leads.c.owner_id == staff.c.id)
            .where(leads.c.id == lead_id, staff.c.status == "active")
        )
    ).scalar_one_or_none()


def record_exit(
    conn: Connection, lead_id: int, at: dt.datetime, step: str, field: str | None
) -> None:
    conn.execute(
        update(leads)
        .where(leads.c.id == lead_id)
        .values(exit_at=at, exit_step=step, exit_field=field)
    )


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
