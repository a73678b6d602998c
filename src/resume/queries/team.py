"""The team page's reads (issue #10, item 3): the leads captured in a range, the callbacks
due in it, the open leads nobody on the team has touched for a day, and the open leads
stuck in a status past the dealership's limit (those in resume.queries.stuck).

Every read is led by the dealership and bounded by the range, so a page of 90 days reads
those 90 days whatever the database holds (design rule 12). The figures of the leads
captured are read from the rows kept as they happen (resume.queries.team_counts), a few a
store a day; the callbacks kept and missed per rep are counted in SQL from a range of
`ix_callbacks_dealer_due`; the open lists from ranges of `ix_leads_status_age`, a branch a
store in that store's own day boundaries.

Each statement is built once per number of stores and kept (functools.lru_cache), its
stores' windows passed as parameters (`dealer0`, `start0`, `end0`, ...): building them anew
on every view was a fifth of the five-store page's Python at a million drafts (issue #10's
bench), and SQLAlchemy keeps the compiled form of a statement it has seen.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from typing import Any, NamedTuple

import msgspec
from sqlalchemy import and_, bindparam, case, func, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from resume.leads import STATUSES
from resume.queries.staff import SHOWN_NAME
from resume.queries.team_counts import ATTEMPTS_TOP, COUNTS
from resume.tables import Timestamp, callbacks, leads, staff, team_counts

# A list on the page is capped, and so is its count (design rule 12: "10,000+").
COUNT_CAP = 10_000
# The statuses a lead stays in: sold and lost are the end (the ix_leads_open predicate).
CLOSED = ("sold", "lost")
OPEN = tuple(s for s in STATUSES if s not in CLOSED)


class Window(msgspec.Struct, frozen=True):
    """One dealership's part of the range: its own midnights, as UTC instants."""

    dealer_id: int
    start: dt.datetime
    end: dt.datetime  # exclusive


class Counted(msgspec.Struct, frozen=True):
    """The leads of one owner at one store captured in the range: how many, their attempts,
    the stages they reached, and the business minutes each answered one waited."""

    dealer_id: int
    owner_id: int | None
    n: int
    attempts: tuple[int, ...]  # how many had 0, 1, 2, 3, 4, and ATTEMPTS_TOP or more attempts
    contacted: int
    appointment: int
    shown: int  # of those with an appointment set
    sold: int
    minutes: list[int]  # the response times, one a lead answered, in no order


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


class _Slot(NamedTuple):
    """One store's window as the parameters of a kept statement."""

    dealer_id: Any
    start: Any
    end: Any


def _slot(k: int) -> _Slot:
    return _Slot(
        bindparam(f"dealer{k}"),
        bindparam(f"start{k}", type_=Timestamp()),
        bindparam(f"end{k}", type_=Timestamp()),
    )


def slots(windows: Sequence[Window], **more: Any) -> dict[str, Any]:
    """The parameters of a statement built for these windows' number of stores."""
    params = dict(more)
    for k, w in enumerate(windows):
        params.update({f"dealer{k}": w.dealer_id, f"start{k}": w.start, f"end{k}": w.end})
    return params


def _within(column: Any, dealer_column: Any, w: _Slot) -> Any:
    return and_(dealer_column == w.dealer_id, column >= w.start, column < w.end)


def _each(stores: int, make: Any) -> Any:
    """`make(slot)` for each store's window, as one statement (UNION ALL). Not one query
    with an OR of the windows: SQLite answers such an OR by gathering row ids from each
    index range and then reading every row from the table (MULTI-INDEX OR), so a covering
    index is read in vain (issue #10's bench: 344 ms for five stores at a million drafts)."""
    parts = [make(_slot(k)) for k in range(stores)]
    return union_all(*parts) if len(parts) > 1 else parts[0]


def _limited(stores: int, make: Any) -> Any:
    # The same, for branches with ORDER BY or LIMIT (in a subquery each: SQLite allows
    # neither on a member of a compound SELECT).
    return _each(stores, lambda w: select(*make(w).subquery().c))


def _count_if(condition: Any) -> Any:
    # count() of a CASE without ELSE: portable (PostgreSQL has no sum() of booleans).
    return func.count(case((condition, 1)))


def _counted() -> Any:
    c = team_counts.c
    return (
        select(
            c.dealer_id,
            c.owner,
            *(func.sum(c[name]) for name in COUNTS),
            # The rows' response times as one text (group_concat, string_agg): a row a rep.
            func.aggregate_strings(func.nullif(c.minutes, ""), ","),
        )
        .where(
            c.dealer_id.in_(bindparam("dealers", expanding=True)),
            c.day >= bindparam("first"),
            c.day <= bindparam("last"),
        )
        .group_by(c.dealer_id, c.owner)
    )


_COUNTED = _counted()


async def counted(
    conn: AsyncConnection, dealer_ids: Sequence[int], first: dt.date, last: dt.date
) -> list[Counted]:
    """The leads these stores captured from `first` to `last` (their own days), counted by
    store and owner, with their attempts (the top bucket holding ATTEMPTS_TOP or more), the
    stages they reached and their response times, from the rows kept as they happened
    (resume.queries.team_counts): a few rows a store a day, whatever the database holds."""
    if not dealer_ids:
        return []
    params = {"dealers": list(dealer_ids), "first": first.isoformat(), "last": last.isoformat()}
    top = 3 + ATTEMPTS_TOP
    return [
        Counted(
            dealer_id=r[0],
            owner_id=r[1] or None,
            n=int(r[2]),
            attempts=tuple(int(n) for n in r[3 : top + 1]),
            contacted=int(r[top + 1]),
            appointment=int(r[top + 2]),
            shown=int(r[top + 3]),
            sold=int(r[top + 4]),
            minutes=[int(m) for m in r[top + 5].split(",")] if r[top + 5] else [],
        )
        for r in await conn.execute(_COUNTED, params)
    ]


@functools.lru_cache(maxsize=128)
def _promises(stores: int) -> Any:
    c = callbacks.c
    now = bindparam("now", type_=Timestamp())
    decided = _count_if(or_(c.done_at.is_not(None), c.late_at < now))
    kept = _count_if(c.done_at <= c.late_at)
    return _each(
        stores,
        lambda w: (
            select(c.dealer_id, c.staff_id, decided, kept)
            .where(_within(c.due_at, c.dealer_id, w), c.due_at <= now)
            .group_by(c.dealer_id, c.staff_id)
        ),
    )


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
    rows = await conn.execute(_promises(len(windows)), slots(windows, now=now))
    return [Promised(r[0], r[1], int(r[2]), int(r[3])) for r in rows]


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
            SHOWN_NAME.label("owner"),
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


@functools.lru_cache(maxsize=128)
def _neglected(stores: int, limit: int) -> tuple[Any, Any]:
    since = func.coalesce(_last_human(), leads.c.captured_at)
    cutoff = bindparam("cutoff", type_=Timestamp())

    # Picked and counted from ix_leads_status_age alone (its open statuses named, so each is a
    # range of it), then only the listed leads' rows are read.
    def where(w: _Slot) -> tuple[Any, ...]:
        return (
            _within(leads.c.captured_at, leads.c.dealer_id, w),
            leads.c.status.in_(OPEN),
            since < cutoff,
        )

    each = _limited(
        stores,
        lambda w: (
            select(leads.c.id, since.label("since"))
            .where(*where(w))
            .order_by(since, leads.c.id)
            .limit(limit)
        ),
    ).subquery()
    first = select(each.c.id).order_by(each.c.since, each.c.id).limit(limit)
    capped = _limited(
        stores, lambda w: select(leads.c.id).where(*where(w)).limit(COUNT_CAP + 1)
    ).subquery()
    return first, select(func.count()).select_from(capped)


async def neglected(
    conn: AsyncConnection, windows: Sequence[Window], cutoff: dt.datetime, limit: int
) -> tuple[list[Waiting], int]:
    """Open leads captured in the range whose last human action (or capture, if nobody has
    acted) is before `cutoff`, longest waiting first, at most `limit`; and how many there
    are, counted no further than COUNT_CAP + 1."""
    if not windows:
        return [], 0
    first, capped = _neglected(len(windows), limit)
    params = slots(windows, cutoff=cutoff)
    ids = [r[0] for r in await conn.execute(first, params)]
    count = min(int((await conn.execute(capped, params)).scalar_one()), COUNT_CAP + 1)
    inner = _open_in(_last_human(), leads.c.id.in_(ids))
    rows: Any = await conn.execute(select(inner).order_by(inner.c.since, inner.c.id)) if ids else []
    return _waiting(rows), count


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
