"""The team page's reads (issue #10, item 3): the leads captured in a range, the callbacks
due in it, the open leads nobody on the team has touched for a day, and the open leads
stuck in a status past the dealership's limit.

Every read is led by the dealership and bounded by the range: one branch per dealership,
each a range of `ix_leads_dealer_captured` (or `ix_callbacks_dealer_due`) in that
dealership's own day boundaries, so a page of 90 days reads those 90 days whatever the
database holds (design rule 12). Figures that need business hours (the response clock) are
worked out by the caller from the rows; counts that need none are counted here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from resume.tables import callbacks, leads, staff

# A list on the page is capped, and so is its count (design rule 12: "10,000+").
COUNT_CAP = 10_000
# The statuses a lead stays in: sold and lost are the end (the ix_leads_open predicate).
CLOSED = ("sold", "lost")
# Attempts are counted 0, 1, 2, 3, 4, and this many or more.
ATTEMPTS_TOP = 5


class Window(msgspec.Struct, frozen=True):
    """One dealership's part of the range: its own midnights, as UTC instants."""

    dealer_id: int
    start: dt.datetime
    end: dt.datetime  # exclusive


class Counted(msgspec.Struct, frozen=True):
    """How many leads of one owner at one store, captured in the range, share these facts."""

    dealer_id: int
    owner_id: int | None
    attempts: int  # 0 to ATTEMPTS_TOP, the top meaning that many or more
    contacted: bool
    appointment: bool
    shown: bool
    sold: bool
    n: int


class Answered(msgspec.Struct, frozen=True):
    """A lead captured in the range that has had a human attempt: the response clock's ends."""

    dealer_id: int
    owner_id: int | None
    captured_at: dt.datetime
    first_attempt_at: dt.datetime
    # Kept when the attempt was logged (None only for a lead answered before it was kept).
    minutes: int | None = None


class Promise(msgspec.Struct, frozen=True):
    """A callback a rep promised, due in the range."""

    dealer_id: int
    staff_id: int | None
    due_at: dt.datetime
    done_at: dt.datetime | None


class Waiting(msgspec.Struct, frozen=True):
    """An open lead on one of the page's lists, and since when it has waited."""

    id: int
    dealer_id: int
    label: str  # the shopper's name, else email, else phone
    status: str
    owner_id: int | None
    owner: str  # "" when unassigned
    captured_at: dt.datetime
    since: dt.datetime  # its last human action (or capture), or when it entered its status


def _windows(column: Any, dealer_column: Any, windows: Sequence[Window]) -> Any:
    return or_(
        *(and_(dealer_column == w.dealer_id, column >= w.start, column < w.end) for w in windows)
    )


async def counted(conn: AsyncConnection, windows: Sequence[Window]) -> list[Counted]:
    """The leads captured in the range, counted by store, owner, attempts (the top bucket
    holding ATTEMPTS_TOP or more) and the stages they reached: a row a combination, not a
    lead."""
    if not windows:
        return []
    facts = (
        leads.c.dealer_id,
        leads.c.owner_id,
        case((leads.c.attempts >= ATTEMPTS_TOP, ATTEMPTS_TOP), else_=leads.c.attempts),
        leads.c.contacted_at.is_not(None),
        leads.c.appointment_set_at.is_not(None),
        leads.c.shown_at.is_not(None),
        leads.c.sold_at.is_not(None),
    )
    query = (
        select(*facts, func.count())
        .where(_windows(leads.c.captured_at, leads.c.dealer_id, windows))
        .group_by(*facts)
    )
    return [
        Counted(r[0], r[1], int(r[2]), bool(r[3]), bool(r[4]), bool(r[5]), bool(r[6]), int(r[7]))
        for r in await conn.execute(query)
    ]


async def answered(conn: AsyncConnection, windows: Sequence[Window]) -> list[Answered]:
    """The leads captured in the range that have had a human attempt."""
    if not windows:
        return []
    query = select(
        leads.c.dealer_id,
        leads.c.owner_id,
        leads.c.captured_at,
        leads.c.first_attempt_at,
        leads.c.response_minutes,
    ).where(
        _windows(leads.c.captured_at, leads.c.dealer_id, windows),
        leads.c.first_attempt_at.is_not(None),
    )
    return [Answered(*r) for r in await conn.execute(query)]


async def promises(
    conn: AsyncConnection, windows: Sequence[Window], now: dt.datetime
) -> list[Promise]:
    """The callbacks due in the range whose time has come."""
    if not windows:
        return []
    query = select(
        callbacks.c.dealer_id, callbacks.c.staff_id, callbacks.c.due_at, callbacks.c.done_at
    ).where(_windows(callbacks.c.due_at, callbacks.c.dealer_id, windows), callbacks.c.due_at <= now)
    return [
        Promise(r.dealer_id, r.staff_id, r.due_at, r.done_at) for r in await conn.execute(query)
    ]


async def names(conn: AsyncConnection, staff_ids: Sequence[int]) -> dict[int, str]:
    """What the page calls each of these staff: their name, else their email."""
    if not staff_ids:
        return {}
    rows = await conn.execute(
        select(staff.c.id, staff.c.name, staff.c.email).where(staff.c.id.in_(set(staff_ids)))
    )
    return {r.id: r.name or r.email for r in rows}


def _last_human() -> Any:
    # The newest row a person wrote on the lead's timeline (attempts, statuses, notes,
    # owners, callbacks...), kept on the lead's row as it is written (queries.leads).
    return leads.c.human_at


def _entered_status() -> Any:
    # The newest status change, kept on the lead's row; None: its first status since capture.
    return leads.c.status_at


def _open_in(windows: Sequence[Window] | None, since: Any, *where: Any) -> Any:
    """The open leads captured in the range (or just those `where` picks), with `since`
    worked out for each."""
    label = func.coalesce(func.nullif(leads.c.name, ""), leads.c.email, leads.c.phone, "")
    return (
        select(
            leads.c.id,
            leads.c.dealer_id,
            label.label("label"),
            leads.c.status,
            leads.c.owner_id,
            func.coalesce(func.nullif(staff.c.name, ""), staff.c.email, "").label("owner"),
            leads.c.captured_at,
            func.coalesce(since, leads.c.captured_at).label("since"),
        )
        .join(staff, staff.c.id == leads.c.owner_id, isouter=True)
        .where(
            *((_windows(leads.c.captured_at, leads.c.dealer_id, windows),) if windows else ()),
            leads.c.status.not_in(CLOSED),
            *where,
        )
        .subquery()
    )


def _waiting(rows: Any) -> list[Waiting]:
    return [
        Waiting(
            id=r.id,
            dealer_id=r.dealer_id,
            label=r.label,
            status=r.status,
            owner_id=r.owner_id,
            owner=r.owner,
            captured_at=r.captured_at,
            since=_aware(r.since),
        )
        for r in rows
    ]


async def neglected(
    conn: AsyncConnection, windows: Sequence[Window], cutoff: dt.datetime, limit: int
) -> tuple[list[Waiting], int]:
    """Open leads captured in the range whose last human action (or capture, if nobody has
    acted) is before `cutoff`, longest waiting first, at most `limit`; and how many there
    are, counted no further than COUNT_CAP + 1."""
    if not windows:
        return [], 0
    inner = _open_in(windows, _last_human())
    query = select(inner).where(inner.c.since < cutoff)
    found = _waiting(await conn.execute(query.order_by(inner.c.since, inner.c.id).limit(limit)))
    capped = query.with_only_columns(inner.c.id).limit(COUNT_CAP + 1).subquery()
    count = (await conn.execute(select(func.count()).select_from(capped))).scalar_one()
    return found, int(count)


class Entered(msgspec.Struct, frozen=True):
    """An open lead past its status's limit: which, where, in what status, since when."""

    id: int
    dealer_id: int
    status: str
    since: dt.datetime


async def stuck(
    conn: AsyncConnection,
    windows: Sequence[Window],
    limits: Mapping[tuple[int, str], dt.timedelta],
    now: dt.datetime,
) -> list[Entered]:
    """Open leads captured in the range that entered their status longer ago than their
    dealership's limit for it (`limits`, by dealership and status), earliest entered first,
    at most COUNT_CAP + 1 of them; only what the weekly view counts by (`waiting` reads the
    rest for the few that are listed)."""
    if not windows or not limits:
        return []
    inner = (
        select(
            leads.c.id,
            leads.c.dealer_id,
            leads.c.status,
            func.coalesce(_entered_status(), leads.c.captured_at).label("since"),
        )
        .where(
            _windows(leads.c.captured_at, leads.c.dealer_id, windows),
            leads.c.status.not_in(CLOSED),
        )
        .subquery()
    )
    over = or_(
        *(
            and_(inner.c.dealer_id == d, inner.c.status == s, inner.c.since < now - limit)
            for (d, s), limit in limits.items()
        )
    )
    query = select(inner).where(over).order_by(inner.c.since, inner.c.id).limit(COUNT_CAP + 1)
    return [
        Entered(r.id, r.dealer_id, r.status, _aware(r.since)) for r in await conn.execute(query)
    ]


async def waiting(conn: AsyncConnection, lead_ids: Sequence[int]) -> dict[int, Waiting]:
    """These open leads (ids `stuck` gave, so within the page's scope) as a list shows
    them, with when they entered their status."""
    if not lead_ids:
        return {}
    inner = _open_in(None, _entered_status(), leads.c.id.in_(list(lead_ids)))
    return {w.id: w for w in _waiting(await conn.execute(select(inner)))}


def _aware(value: Any) -> dt.datetime:
    # coalesce() of two timestamps loses the column type on SQLite: text comes back.
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
