"""Leads: one shopper at one dealership, the drafts that share their email or phone.

A lead is made, and given an owner by round-robin, in the same transaction as the save that
first captures a valid email or phone (the autosave batch calls `capture`); every later save
of its drafts moves its activity (`touch`). Everything the lead list shows is on the lead's
own row, so a page of the list reads one index led by the dealership (design rule 12).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import msgspec
from sqlalchemy import (
    Boolean,
    Connection,
    and_,
    bindparam,
    case,
    exists,
    false,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from resume.leads import APPOINTMENT
from resume.queries import outbox as outbox_q
from resume.queries import staff as staff_q
from resume.tables import (
    callbacks,
    drafts,
    lead_activity,
    leads,
    offers,
    staff,
)

# The list says "10,000+" rather than count further (design rule 12).
COUNT_CAP = 10_000


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


def _lead(row: Any) -> Lead:
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


def _select() -> Any:
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
    for draft in found:
        email = draft.email.lower() if draft.email else None
        by_email = _find(conn, draft.dealer_id, leads.c.email, email)
        by_phone = _find(conn, draft.dealer_id, leads.c.phone, draft.phone)
        lead_id = by_email or by_phone
        if lead_id is None:
            lead_id = _create(conn, draft, email)
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


def _create(conn: Connection, draft: Captured, email: str | None) -> int:
    owner = None if draft.demo else staff_q.next_owner(conn, draft.dealer_id, draft.at)
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
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


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


class Cohort(msgspec.Struct, frozen=True, kw_only=True):
    """The leads behind one figure of the funnel (issue #10): those with a draft of `widget`
    begun from day `first` to day `last` (the dealership's clock) from `source`, that got to
    `point`. A stage past contact (contacted, appointment, shown, sold) is the lead's own,
    counted in its first draft's cohort."""

    widget: str
    first: str
    last: str
    source: str | None = None
    # started, captured, reached, exited, resumed, completed, or a stage.
    point: str = "started"
    # For "reached": the step's position at each dealership that has it.
    reached: tuple[tuple[int, int], ...] = ()
    # For "exited": the step, and the field ("-" for none), where drafts first left.
    step: str = ""
    field: str = ""


STAGE_REACHED = {
    "contacted": leads.c.contacted_at,
    "appointment": leads.c.appointment_set_at,
    "shown": leads.c.shown_at,
    "sold": leads.c.sold_at,
}


def _cohort(found: Cohort) -> Any:
    if found.point in STAGE_REACHED:
        clauses = [
            leads.c.cohort_widget == found.widget,
            leads.c.cohort_day >= found.first,
            leads.c.cohort_day <= found.last,
            STAGE_REACHED[found.point].is_not(None),
        ]
        if found.source is not None:
            clauses.append(leads.c.cohort_source == found.source)
        return and_(*clauses)
    inner = [
        drafts.c.lead_id == leads.c.id,
        drafts.c.widget == found.widget,
        drafts.c.cohort_day >= found.first,
        drafts.c.cohort_day <= found.last,
    ]
    if found.source is not None:
        inner.append(drafts.c.cohort_source == found.source)
    if found.point == "reached":
        inner.append(
            or_(*(and_(drafts.c.dealer_id == d, drafts.c.reached >= i) for d, i in found.reached))
            if found.reached
            else false()
        )
    elif found.point == "exited":
        inner.append(drafts.c.first_exit_step == found.step)
        if found.field == "-":
            inner.append(drafts.c.first_exit_field.is_(None))
        elif found.field:
            inner.append(drafts.c.first_exit_field == found.field)
    elif found.point == "resumed":
        inner.append(drafts.c.resumed_at.is_not(None))
    elif found.point == "completed":
        inner.append(drafts.c.completed_at.is_not(None))
    return exists().where(*inner)


class Filter(msgspec.Struct, frozen=True, kw_only=True):
    """A lead list's filters, already checked; every field narrows the list."""

    dealer_ids: tuple[int, ...]
    # Reps see their own leads and the unassigned queue; managers everything (resume.staff).
    only_for: int | None = None
    owner: str = "anyone"  # me, unassigned, anyone
    viewer_id: int = 0
    widget: str = ""
    status: str = ""
    exit_step: str = ""
    has_phone: bool = False
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    needs_action: bool = False
    sort: str = "activity"  # activity (newest first) or age (oldest capture first)
    cohort: Cohort | None = None


def _where(found: Filter, now: dt.datetime) -> list[Any]:
    clauses: list[Any] = [leads.c.dealer_id.in_(found.dealer_ids)]
    if found.only_for is not None:
        clauses.append(or_(leads.c.owner_id == found.only_for, leads.c.owner_id.is_(None)))
    if found.owner == "me":
        clauses.append(leads.c.owner_id == found.viewer_id)
    elif found.owner == "unassigned":
        clauses.append(leads.c.owner_id.is_(None))
    if found.widget:
        clauses.append(("," + leads.c.widgets + ",").contains(f",{found.widget},"))
    if found.status:
        clauses.append(leads.c.status == found.status)
    if found.exit_step:
        clauses.append(and_(leads.c.exit_at.is_not(None), leads.c.exit_step == found.exit_step))
    if found.has_phone:
        clauses.append(leads.c.phone.is_not(None))
    if found.since is not None:
        clauses.append(leads.c.captured_at >= found.since)
    if found.until is not None:
        clauses.append(leads.c.captured_at < found.until)
    if found.cohort is not None:
        clauses.append(_cohort(found.cohort))
    if found.needs_action:
        clauses.append(
            or_(
                and_(leads.c.first_attempt_at.is_(None), leads.c.status.not_in(("sold", "lost"))),
                leads.c.callback_due_at <= now,
                and_(leads.c.status.in_(APPOINTMENT), leads.c.appointment_at <= now),
                and_(
                    leads.c.came_back_at.is_not(None),
                    or_(
                        leads.c.last_attempt_at.is_(None),
                        leads.c.came_back_at > leads.c.last_attempt_at,
                    ),
                ),
            )
        )
    return clauses


async def page(
    conn: AsyncConnection,
    found: Filter,
    *,
    now: dt.datetime,
    after: tuple[dt.datetime, int] | None = None,
    limit: int = 25,
) -> list[Lead]:
    """A page of the list by keyset, never OFFSET: `after` is the last row's (time, id)."""
    key = leads.c.last_activity_at if found.sort == "activity" else leads.c.captured_at
    query = _select().where(*_where(found, now))
    if after is not None:
        if found.sort == "activity":
            query = query.where(or_(key < after[0], and_(key == after[0], leads.c.id < after[1])))
        else:
            query = query.where(or_(key > after[0], and_(key == after[0], leads.c.id > after[1])))
    if found.sort == "activity":
        query = query.order_by(key.desc(), leads.c.id.desc())
    else:
        query = query.order_by(key, leads.c.id)
    return [_lead(row) for row in await conn.execute(query.limit(limit))]


async def count(conn: AsyncConnection, found: Filter, *, now: dt.datetime) -> int:
    """How many leads match, counting no further than COUNT_CAP + 1."""
    inner = select(literal(1)).select_from(leads).where(*_where(found, now)).limit(COUNT_CAP + 1)
    return int(
        (await conn.execute(select(func.count()).select_from(inner.subquery()))).scalar_one()
    )


async def get(conn: AsyncConnection, lead_id: int, dealer_ids: tuple[int, ...]) -> Lead | None:
    """The lead, if it belongs to one of `dealer_ids`; otherwise None, as if there were none."""
    row = (
        await conn.execute(
            _select().where(leads.c.id == lead_id, leads.c.dealer_id.in_(dealer_ids))
        )
    ).first()
    return _lead(row) if row else None


async def draft_ids(conn: AsyncConnection, lead_id: int) -> list[str]:
    """The lead's drafts, oldest first."""
    result = await conn.execute(
        select(drafts.c.id).where(drafts.c.lead_id == lead_id).order_by(drafts.c.created_at)
    )
    return list(result.scalars())


async def count_touch(conn: AsyncConnection, draft_id: str) -> None:
    """One more automatic follow-up sent to the lead of `draft_id` (none if it has no lead)."""
    await conn.execute(
        update(leads)
        .where(
            leads.c.id == select(drafts.c.lead_id).where(drafts.c.id == draft_id).scalar_subquery()
        )
        .values(touches_sent=leads.c.touches_sent + 1)
    )


async def change(conn: AsyncConnection, lead_id: int, **values: Any) -> None:
    await conn.execute(update(leads).where(leads.c.id == lead_id).values(**values))


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
