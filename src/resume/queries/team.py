"""The team page's reads (issue #10, item 3): the leads captured in a range, the callbacks
due in it, the open leads nobody on the team has touched for a day, and the open leads
stuck in a status past the dealership's limit (those in resume.queries.stuck).

Every read is led by the dealership and bounded by the range: one branch per dealership,
each a range of `ix_leads_captured_figures` (or `ix_callbacks_dealer_due`) in that
dealership's own day boundaries, so a page of 90 days reads those 90 days whatever the
database holds (design rule 12). Figures that need business hours (the response clock) are
worked out by the caller from the rows; counts that need none are counted here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import msgspec
from sqlalchemy import and_, case, func, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from resume.leads import STATUSES
from resume.tables import callbacks, leads, staff

# A list on the page is capped, and so is its count (design rule 12: "10,000+").
COUNT_CAP = 10_000
# The statuses a lead stays in: sold and lost are the end (the ix_leads_open predicate).
CLOSED = ("sold", "lost")
OPEN = tuple(s for s in STATUSES if s not in CLOSED)
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
    """How many leads of one owner at one store, captured in the range, were first answered
    after this many business minutes; or (`minutes` None, `n` 1) one lead answered before its
    response time was kept, with its clock's ends for the caller to count."""

    dealer_id: int
    owner_id: int | None
    minutes: int | None
    n: int = 1
    captured_at: dt.datetime | None = None
    first_attempt_at: dt.datetime | None = None


class Promised(msgspec.Struct, frozen=True):
    """The callbacks one rep at one store promised, due in the range: how many are decided
    (done, or past their grace) and how many of those were kept (done by their `late_at`)."""

    dealer_id: int
    staff_id: int | None
    decided: int
    kept: int


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


def _within(column: Any, dealer_column: Any, w: Window) -> Any:
    return and_(dealer_column == w.dealer_id, column >= w.start, column < w.end)


def _each(windows: Sequence[Window], make: Any) -> Any:
    """`make(window)` for each store's window, as one statement (UNION ALL). Not one query
    with an OR of the windows: SQLite answers such an OR by gathering row ids from each
    index range and then reading every row from the table (MULTI-INDEX OR), so a covering
    index is read in vain (issue #10's bench: 344 ms for five stores at a million drafts)."""
    parts = [make(w) for w in windows]
    return union_all(*parts) if len(parts) > 1 else parts[0]


def _limited(windows: Sequence[Window], make: Any) -> Any:
    # The same, for branches with ORDER BY or LIMIT (in a subquery each: SQLite allows
    # neither on a member of a compound SELECT).
    return _each(windows, lambda w: select(*make(w).subquery().c))


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
    query = _each(
        windows,
        lambda w: (
            select(*facts, func.count())
            .where(_within(leads.c.captured_at, leads.c.dealer_id, w))
            .group_by(*facts)
        ),
    )
    return [
        Counted(r[0], r[1], int(r[2]), bool(r[3]), bool(r[4]), bool(r[5]), bool(r[6]), int(r[7]))
        for r in await conn.execute(query)
    ]


async def answered(conn: AsyncConnection, windows: Sequence[Window]) -> list[Answered]:
    """The response times of the leads captured in the range that have had a human attempt,
    counted by store, owner and minutes: a row a distinct time, not a lead (five stores'
    90 days are some 18,000 leads at a million drafts, a few hundred distinct times)."""
    if not windows:
        return []
    facts = (leads.c.dealer_id, leads.c.owner_id, leads.c.response_minutes)
    kept = _each(
        windows,
        lambda w: (
            select(*facts, func.count())
            .where(
                _within(leads.c.captured_at, leads.c.dealer_id, w),
                leads.c.response_minutes.is_not(None),
            )
            .group_by(*facts)
        ),
    )
    found = [Answered(r[0], r[1], int(r[2]), int(r[3])) for r in await conn.execute(kept)]
    # Answered before the time was kept (resume migrate keeps it for those): by their ends.
    unkept = _each(
        windows,
        lambda w: select(
            leads.c.dealer_id, leads.c.owner_id, leads.c.captured_at, leads.c.first_attempt_at
        ).where(
            _within(leads.c.captured_at, leads.c.dealer_id, w),
            leads.c.first_attempt_at.is_not(None),
            leads.c.response_minutes.is_(None),
        ),
    )
    found.extend(Answered(r[0], r[1], None, 1, r[2], r[3]) for r in await conn.execute(unkept))
    return found


async def promises(
    conn: AsyncConnection, windows: Sequence[Window], now: dt.datetime
) -> list[Promised]:
    """The callbacks due in the range whose time has come, counted by store and rep: kept
    when done by `late_at` (early counts), missed when done later or not done by then; one
    not done and still within its grace is neither. Counted here, from
    `ix_callbacks_dealer_due` alone: five stores' 90 days are some 2,800 callbacks at a
    million drafts, and judging them a row at a time was a third of the page's Python."""
    if not windows:
        return []
    c = callbacks.c
    decided = func.sum(case((or_(c.done_at.is_not(None), c.late_at < now), 1), else_=0))
    kept = func.sum(case((c.done_at <= c.late_at, 1), else_=0))
    query = _each(
        windows,
        lambda w: (
            select(c.dealer_id, c.staff_id, decided, kept)
            .where(_within(c.due_at, c.dealer_id, w), c.due_at <= now)
            .group_by(c.dealer_id, c.staff_id)
        ),
    )
    return [Promised(r[0], r[1], int(r[2] or 0), int(r[3] or 0)) for r in await conn.execute(query)]


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


def _open_in(since: Any, *where: Any) -> Any:
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
            since=aware(r.since),
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
    since = func.coalesce(_last_human(), leads.c.captured_at)

    # Picked and counted from ix_leads_status_age alone (its open statuses named, so each is a
    # range of it), then only the listed leads' rows are read.
    def where(w: Window) -> tuple[Any, ...]:
        return (
            _within(leads.c.captured_at, leads.c.dealer_id, w),
            leads.c.status.in_(OPEN),
            since < cutoff,
        )

    each = _limited(
        windows,
        lambda w: (
            select(leads.c.id, since.label("since"))
            .where(*where(w))
            .order_by(since, leads.c.id)
            .limit(limit)
        ),
    ).subquery()
    first = select(each.c.id).order_by(each.c.since, each.c.id).limit(limit)
    ids = [r[0] for r in await conn.execute(first)]
    capped = _limited(
        windows, lambda w: select(leads.c.id).where(*where(w)).limit(COUNT_CAP + 1)
    ).subquery()
    count = (await conn.execute(select(func.count()).select_from(capped))).scalar_one()
    count = min(int(count), COUNT_CAP + 1)
    inner = _open_in(_last_human(), leads.c.id.in_(ids))
    rows = await conn.execute(select(inner).order_by(inner.c.since, inner.c.id)) if ids else []
    return _waiting(rows), int(count)


async def waiting(conn: AsyncConnection, lead_ids: Sequence[int]) -> dict[int, Waiting]:
    """These open leads (ids `stuck` gave, so within the page's scope) as a list shows
    them, with when they entered their status."""
    if not lead_ids:
        return {}
    inner = _open_in(_entered_status(), leads.c.id.in_(list(lead_ids)))
    return {w.id: w for w in _waiting(await conn.execute(select(inner)))}


def aware(value: Any) -> dt.datetime:
    """A timestamp read back as an aware UTC datetime, whatever coalesce() did to it."""
    # coalesce() of two timestamps loses the column type on SQLite: text comes back.
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
