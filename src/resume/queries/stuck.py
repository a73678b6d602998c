"""The team page's leads stuck in a status (issue #10, item 3): the open leads captured in a
range that entered their status longer ago than the store's limit for it, counted by the
week they went over it and the earliest of them listed: every store asked for in one
statement for the counts and one for the lists (PostgreSQL answers each statement in a round
trip: two a store made this the most of the five-store page's twenty statements).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from sqlalchemy import (
    Integer,
    String,
    bindparam,
    case,
    func,
    literal_column,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from resume.queries.team import CLOSED, Window, aware
from resume.tables import Timestamp, leads


class Entered(msgspec.Struct, frozen=True):
    """An open lead past its status's limit: which, where, in what status, since when."""

    id: int
    dealer_id: int
    status: str
    since: dt.datetime


class Over(msgspec.Struct, frozen=True):
    """How many open leads of one store, in one status, went over its limit in one week."""

    dealer_id: int
    status: str
    week: dt.date  # its Monday, on the store's clock
    n: int


def mondays(zone: str, first: dt.datetime, now: dt.datetime) -> list[tuple[dt.date, dt.datetime]]:
    """The week starts on a store's clock (the day, and its midnight as a UTC instant) from
    the week of `first` to the week of `now`."""
    tz = ZoneInfo(zone)
    day = first.astimezone(tz).date()
    day -= dt.timedelta(days=day.weekday())
    last = now.astimezone(tz).date()
    out = []
    while day <= last:
        out.append((day, dt.datetime.combine(day, dt.time(0), tzinfo=tz).astimezone(dt.UTC)))
        day += dt.timedelta(days=7)
    return out


class Store(msgspec.Struct, frozen=True):
    """One store's part of the stuck view: its window, its clock and its limits by status."""

    window: Window
    zone: str
    limits: Mapping[str, dt.timedelta]


async def stuck(
    conn: AsyncConnection, stores: Sequence[Store], now: dt.datetime, listed: int
) -> tuple[list[Over], list[Entered]]:
    """The stores' open leads captured in the range that entered their status longer ago
    than the store's limit for it: counted by the week (on the store's clock) they went over
    it; and the `listed` of them that went over it earliest, earliest first.

    A lead went over in the week of the last Monday at or before its `since + limit`:
    counted in SQL by comparing `since` with each Monday's midnight less the limit, so a
    store's thousands of stuck leads come back as a few dozen rows, not a row a lead (issue
    #10's bench: ten thousand rows read into Python cost the five-store page more than all
    its SQL). No lead entered its status before it was captured (the writers keep it so), so
    none went over before its range's first Monday.

    The earliest are read after the counts, which say by when the `listed` earliest all went
    over: the first instant by which that many had. A lead that went over before that instant
    entered its status before the instant less its limit, so was captured before that too:
    each store and status's range of captures is read only up to there (a week or two of the
    range's thirteen, where the whole range cost the five-store page 10 ms at a million
    drafts)."""
    shapes, params, weeks = [], {}, []
    for k, store in enumerate(stores):
        w, statuses = store.window, tuple(store.limits)
        weeks.append(mondays(store.zone, w.start, now))
        shapes.append((len(statuses), len(weeks[k])))
        params.update({f"dealer{k}": w.dealer_id, f"start{k}": w.start, f"end{k}": w.end})
        for j, status in enumerate(statuses):
            limit = store.limits[status]
            params[f"status{k}_{j}"] = status
            params[f"over{k}_{j}"] = now - limit
            for i, (_, midnight) in enumerate(weeks[k][1:], 1):
                params[f"week{k}_{j}_{i}"] = midnight - limit
    if not any(n for n, _ in shapes):
        return [], []
    tallies, firsts = _stuck_statements(tuple(shapes), listed)
    counts: list[Over] = []
    # By when each week's leads had gone over: the next Monday's midnight, or now.
    by: list[tuple[dt.datetime, int]] = []
    for k, j, week, n in await conn.execute(tallies, params):
        store = stores[k]
        counts.append(
            Over(store.window.dealer_id, tuple(store.limits)[j], weeks[k][week][0], int(n))
        )
        by.append((weeks[k][week + 1][1] if week + 1 < len(weeks[k]) else now, int(n)))
    cut, seen = now, 0
    for instant, n in sorted(by):
        seen += n
        if seen >= listed:
            cut = instant
            break
    for k, store in enumerate(stores):
        for j, status in enumerate(store.limits):
            params[f"cut{k}_{j}"] = cut - store.limits[status]
    # Each store and status's `listed` earliest in it, longest over its limit first: the
    # `listed` of them all (a row stays a tuple until picked: five stores' are 1,500 rows).
    limit_of = {
        (s.window.dealer_id, status): limit for s in stores for status, limit in s.limits.items()
    }
    over = sorted(
        (aware(since) + limit_of[(dealer_id, status)], lead_id, dealer_id, status, since)
        for lead_id, dealer_id, status, since in await conn.execute(firsts, params)
    )
    return counts, [Entered(r[1], r[2], r[3], aware(r[4])) for r in over[:listed]]


def _since() -> Any:
    return func.coalesce(leads.c.status_at, leads.c.captured_at)


def _over(k: int, j: int, bound: str) -> tuple[Any, ...]:
    # One (store, status) range of ix_leads_status_age, which holds `status_at`: counting and
    # ordering never reach the table. `bound`: the parameter `since` is below.
    return (
        leads.c.dealer_id == bindparam(f"dealer{k}"),
        leads.c.status == bindparam(f"status{k}_{j}"),
        leads.c.captured_at >= bindparam(f"start{k}", type_=Timestamp()),
        leads.c.captured_at < bindparam(f"end{k}", type_=Timestamp()),
        leads.c.status.not_in(CLOSED),
        _since() < bindparam(f"{bound}{k}_{j}", type_=Timestamp()),
    )


@functools.lru_cache(maxsize=256)
def _stuck_statements(shapes: tuple[tuple[int, int], ...], listed: int) -> tuple[Any, Any]:
    """The two statements of `stuck` for stores of these shapes (how many statuses limited,
    how many weeks in the range), built once: a page of five stores would otherwise build
    some 500 comparisons in Python on every view, and SQLAlchemy keeps a built statement's
    cache key. The constants (which store, status and week a row is) are written into the
    SQL, not bound: the counts' statement for five stores carried 1,330 parameters, and
    SQLAlchemy's handling of each on every view was the largest part of the page's Python."""
    since = _since()
    tallies, firsts = [], []
    for k, (statuses, weeks) in enumerate(shapes):
        for j in range(statuses):
            # The week's index: how many of the Mondays after the first it went over after.
            index = (
                case(
                    *(
                        (since < bindparam(f"week{k}_{j}_{i}", type_=Timestamp()), _int(i - 1))
                        for i in range(1, weeks)
                    ),
                    else_=_int(weeks - 1),
                )
                if weeks > 1
                else _int(0)
            )
            # Grouped outside: PostgreSQL would see the CASE's parameters in GROUP BY as
            # another expression than the same CASE in the select list.
            inner = select(index.label("week")).where(*_over(k, j, "over")).subquery()
            tallies.append(
                select(_int(k).label("k"), _int(j).label("j"), inner.c.week, func.count())
                .group_by(inner.c.week)
                .subquery()
            )
            firsts.append(
                select(leads.c.id, leads.c.dealer_id, leads.c.status, _raw(since).label("since"))
                .where(
                    *_over(k, j, "cut"),
                    leads.c.captured_at < bindparam(f"cut{k}_{j}", type_=Timestamp()),
                )
                .order_by(since, leads.c.id)
                .limit(listed)
                .subquery()
            )
    return _union(tallies), _union(firsts)


def _int(n: int) -> Any:
    return literal_column(str(n), Integer())


def _raw(value: Any) -> Any:
    # As the driver hands it over, parsed by `aware`: a page of five stores lists up to 50
    # leads of each store and status (1,500 rows) to pick its 50, and SQLAlchemy's own
    # parsing of SQLite's timestamp text took longer than the statement (issue #10's bench).
    return type_coerce(value, String())


def _union(parts: Sequence[Any]) -> Any:
    return union_all(*(select(*p.c) for p in parts)) if len(parts) > 1 else select(*parts[0].c)
