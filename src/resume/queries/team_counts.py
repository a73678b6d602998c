"""The team page's figures, kept as they happen (issue #10, item 5): a row of `team_counts`
per store, capture day (on the store's clock) and owner, with how many leads it holds, their
attempts (0 to 4, and 5 or more), the stages they ever reached and the business minutes each
answered one waited. A range of days is then read as a few rows a day, not a row a lead
(resume.queries.team.counted).

Every write that changes what a lead counts for (its owner, attempts, stages, response time)
moves its part in the same transaction: a new lead is added where it is made (`add`, the
autosave batch), a change goes through `leads.change` or `funnel.reach_stages` (`keeping`),
and a purge takes its leads out (`remove`). Counts move by addition (`n = n + excluded.n`),
so two transactions moving the same row never lose one another's change; the before is read
with the lead's row locked, so two changes of one lead are counted one after the other.

`rebuild` counts everything again from the leads, for the leads stored before the table
existed (`resume migrate`) and for a history written as of the past (`resume demo`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Connection,
    String,
    case,
    cast,
    delete,
    func,
    insert,
    literal_column,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from resume.tables import dealers, leads, meta, team_counts

# The meta row that says the leads stored so far are counted.
COUNTED = "team_counted"
ATTEMPTS_TOP = 5  # the last bucket: this many attempts or more
COUNTS = (
    "n",
    *(f"attempts_{k}" for k in range(ATTEMPTS_TOP + 1)),
    "contacted",
    "appointment",
    "shown",
    "sold",
)
NOBODY = 0  # the owner key of an unassigned lead's row

Key = tuple[int, str, int]  # dealer id, day, owner


class Part(NamedTuple):
    """What one lead counts for, in its row."""

    key: Key
    counts: tuple[int, ...]  # as COUNTS names them
    minutes: int | None  # its response time, once answered


_PART_COLUMNS = (
    leads.c.id,
    leads.c.dealer_id,
    leads.c.captured_day,
    leads.c.owner_id,
    leads.c.attempts,
    leads.c.contacted_at,
    leads.c.appointment_set_at,
    leads.c.shown_at,
    leads.c.sold_at,
    leads.c.response_minutes,
)


def _part(row: Any) -> Part | None:
    if row.captured_day is None:
        return None  # not counted yet: `rebuild` counts it
    attempts = min(row.attempts, ATTEMPTS_TOP)
    appointment = row.appointment_set_at is not None
    return Part(
        (row.dealer_id, row.captured_day, row.owner_id or NOBODY),
        (
            1,
            *(int(attempts == k) for k in range(ATTEMPTS_TOP + 1)),
            int(row.contacted_at is not None),
            int(appointment),
            int(appointment and row.shown_at is not None),
            int(row.sold_at is not None),
        ),
        row.response_minutes,
    )


def parts(conn: Connection, lead_ids: Iterable[int], *, lock: bool = False) -> dict[int, Part]:
    """What each of these leads counts for now (those counted yet); `lock` holds their rows
    until the transaction ends (on PostgreSQL: SQLite's writer is alone already)."""
    query = select(*_PART_COLUMNS).where(leads.c.id.in_(list(lead_ids)))
    if lock:
        query = query.with_for_update(of=leads)
    found = {row.id: _part(row) for row in conn.execute(query)}
    return {lead_id: part for lead_id, part in found.items() if part is not None}


def day_of(at: dt.datetime, timezone: str) -> str:
    """The day `at` falls on, on the store's clock: the row a lead captured then counts in."""
    return at.astimezone(ZoneInfo(timezone)).date().isoformat()


def fresh(dealer_id: int, day: str, owner_id: int | None) -> Part:
    """A lead just captured: no attempt, no stage, no response yet."""
    counts = dict.fromkeys(COUNTS, 0) | {"n": 1, "attempts_0": 1}
    return Part((dealer_id, day, owner_id or NOBODY), tuple(counts.values()), None)


def add(conn: Connection, new: Iterable[Part]) -> None:
    move(conn, (), new)


def remove(conn: Connection, gone: Iterable[Part]) -> None:
    move(conn, gone, ())


def move(conn: Connection, before: Iterable[Part], after: Iterable[Part]) -> None:
    """Take `before` out of the rows and put `after` in: one statement for the counts of
    every row touched, and one a row whose response times lose one."""
    counts: dict[Key, list[int]] = defaultdict(lambda: [0] * len(COUNTS))
    added: dict[Key, list[int]] = defaultdict(list)
    taken: dict[Key, list[int]] = defaultdict(list)
    for sign, items, minutes in ((-1, before, taken), (1, after, added)):
        for part in items:
            row = counts[part.key]
            for i, n in enumerate(part.counts):
                row[i] += sign * n
            if part.minutes is not None:
                minutes[part.key].append(part.minutes)
    for key in list(taken):
        # A response time moved and back (the same lead, unchanged) is no change.
        for m in list(taken[key]):
            if m in added[key]:
                taken[key].remove(m)
                added[key].remove(m)
    changed = sorted(
        k for k in counts if any(counts[k]) or added.get(k) or taken.get(k)
    )  # sorted: two transactions take the rows' locks in one order
    if not changed:
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(team_counts)
    joined = team_counts.c.minutes + "," + stmt.excluded.minutes
    stmt = stmt.on_conflict_do_update(
        index_elements=[team_counts.c.dealer_id, team_counts.c.day, team_counts.c.owner],
        set_={
            **{name: team_counts.c[name] + stmt.excluded[name] for name in COUNTS},
            "minutes": case(
                (stmt.excluded.minutes == "", team_counts.c.minutes),
                (team_counts.c.minutes == "", stmt.excluded.minutes),
                else_=joined,
            ),
        },
    )
    conn.execute(
        stmt,
        [
            {
                "dealer_id": k[0],
                "day": k[1],
                "owner": k[2],
                **dict(zip(COUNTS, counts[k], strict=True)),
                "minutes": ",".join(map(str, added.get(k, ()))),
            }
            for k in changed
        ],
    )
    for key in sorted(k for k, m in taken.items() if m):
        _take_minutes(conn, key, taken[key])


def _take_minutes(conn: Connection, key: Key, gone: list[int]) -> None:
    # The upsert above holds the row's lock: nothing else changes its list meanwhile.
    where = (
        team_counts.c.dealer_id == key[0],
        team_counts.c.day == key[1],
        team_counts.c.owner == key[2],
    )
    text = conn.execute(select(team_counts.c.minutes).where(*where)).scalar_one()
    kept = [int(m) for m in text.split(",")] if text else []
    for m in gone:
        kept.remove(m)  # every time taken out was put in: a ValueError is a broken row
    conn.execute(update(team_counts).where(*where).values(minutes=",".join(map(str, kept))))


@asynccontextmanager
async def keeping(conn: AsyncConnection, lead_id: int) -> AsyncIterator[None]:
    """Around a change of one lead: its part moves from what it counted for before to what
    it counts for after, in the same transaction."""
    before = await conn.run_sync(parts, [lead_id], lock=True)
    yield
    after = await conn.run_sync(parts, [lead_id])
    if before != after:
        await conn.run_sync(move, before.values(), after.values())


def rebuild(conn: Connection, dealer_ids: Sequence[int] | None = None) -> int:
    """Count the team page's figures again from the leads, replacing the rows of every
    dealership (or of `dealer_ids`), and give the leads stored before there were days theirs.
    Returns how many leads were counted."""
    which = select(dealers.c.id, dealers.c.timezone)
    if dealer_ids is not None:
        which = which.where(dealers.c.id.in_(list(dealer_ids)))
    found = conn.execute(which).all()
    ids = [d for d, _ in found]
    for dealer_id, timezone in found:
        _give_days(conn, dealer_id, timezone)
    conn.execute(delete(team_counts).where(team_counts.c.dealer_id.in_(ids)))
    c = leads.c
    appointment = c.appointment_set_at.is_not(None)
    # Written out, not a parameter: PostgreSQL takes GROUP BY's $2 for another expression
    # than the select list's $1.
    owner = func.coalesce(c.owner_id, literal_column(str(NOBODY)))
    counted = select(
        c.dealer_id,
        c.captured_day,
        owner,
        func.count(),
        *(func.count(case((c.attempts == k, 1))) for k in range(ATTEMPTS_TOP)),
        func.count(case((c.attempts >= ATTEMPTS_TOP, 1))),
        func.count(c.contacted_at),
        func.count(case((appointment, 1))),
        func.count(case((appointment & c.shown_at.is_not(None), 1))),
        func.count(c.sold_at),
        func.coalesce(func.aggregate_strings(cast(c.response_minutes, String), ","), ""),
    ).where(c.dealer_id.in_(ids), c.captured_day.is_not(None))
    counted = counted.group_by(c.dealer_id, c.captured_day, owner)
    conn.execute(
        insert(team_counts).from_select(["dealer_id", "day", "owner", *COUNTS, "minutes"], counted)
    )
    total = conn.execute(
        select(func.coalesce(func.sum(team_counts.c.n), 0)).where(team_counts.c.dealer_id.in_(ids))
    ).scalar_one()
    if dealer_ids is None:
        conn.execute(delete(meta).where(meta.c.name == COUNTED))
        conn.execute(insert(meta).values(name=COUNTED, value="1"))
    return int(total)


def uncount(conn: Connection) -> None:
    """Forget that the stored leads are counted: `resume migrate` counts them all again."""
    conn.execute(delete(meta).where(meta.c.name == COUNTED))


def counted(conn: Connection) -> bool:
    """Whether the leads stored before team_counts existed are counted."""
    return conn.execute(select(meta.c.value).where(meta.c.name == COUNTED)).first() is not None


def _give_days(conn: Connection, dealer_id: int, timezone: str) -> None:
    """Each of the dealership's leads without a day gets the day it was captured on: a
    statement a day between its first and last such lead (the day's midnights on its clock,
    a range of the leads' capture index), not a statement a lead."""
    undated = (leads.c.dealer_id == dealer_id, leads.c.captured_day.is_(None))
    first, last = conn.execute(
        select(func.min(leads.c.captured_at), func.max(leads.c.captured_at)).where(*undated)
    ).one()
    if first is None:
        return
    zone = ZoneInfo(timezone)
    day = _aware(first).astimezone(zone).date()
    end = _aware(last).astimezone(zone).date()
    while day <= end:
        start = dt.datetime.combine(day, dt.time(0), tzinfo=zone)
        after = dt.datetime.combine(day + dt.timedelta(1), dt.time(0), tzinfo=zone)
        conn.execute(
            update(leads)
            .where(*undated, leads.c.captured_at >= start, leads.c.captured_at < after)
            .values(captured_day=day.isoformat())
        )
        day += dt.timedelta(1)


def _aware(value: Any) -> dt.datetime:
    # min() and max() of SQLite's timestamp text may come back as the text itself.
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
