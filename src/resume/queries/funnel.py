"""The funnel's summary rows (issue #10): counted as things happen, read by range.

A draft belongs to one cohort: its dealership, its widget, the day it began on the
dealership's clock, and its source's key. Each point of the funnel a draft reaches adds one to
its cohort's row for that point, in the transaction that records the moment (the autosave
batch, the exit detector, a status change), so a page reads a few rows a day and never scans
the drafts (design rule 12). Each draft is counted once per point: a draft that exits twice
is one draft that exited, at the step where it first left.

`rebuild` counts the same rows again from the drafts, events and leads themselves: for a
database that had drafts before the funnel existed, and as the check the tests hold the
running counts to.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from sqlalchemy import Connection, bindparam, delete, func, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from resume.leads import REACHED
from resume.queries import team_counts
from resume.tables import (
    STARTED,
    dealers,
    drafts,
    events,
    funnel_counts,
    funnel_totals,
    lead_activity,
    leads,
    meta,
)

# (dealer_id, widget, day, source, kind, step, field)
Key = tuple[int, str, str, str, str, str, str]

# A lead's stages past capture, in order, and the column that keeps when it first got there.
STAGES = ("contacted", "appointment", "shown", "sold")
STAGE_COLUMNS = {
    "contacted": leads.c.contacted_at,
    "appointment": leads.c.appointment_set_at,
    "shown": leads.c.shown_at,
    "sold": leads.c.sold_at,
}
# The stages a status means the lead has passed: a sale was contacted, met and shown, even if
# nobody set those statuses on the way. New, attempting and lost pass none.
STATUS_STAGES: Mapping[str, tuple[str, ...]] = {
    "contacted": ("contacted",),
    "appointment_set": ("contacted", "appointment"),
    "appointment_confirmed": ("contacted", "appointment"),
    "no_show": ("contacted", "appointment"),
    "shown": ("contacted", "appointment", "shown"),
    "sold": STAGES,
}
# The meta row that says the drafts stored so far are counted.
COUNTED = "funnel_counted"
DIRECT = "direct"


def source_key(source: Mapping[str, str | None]) -> str:
    """The source a funnel is filtered by: the campaign's source and medium, else the
    dealer's own placement label, else the site that framed the widget, else "direct"."""
    utm = " / ".join(
        p.strip().lower() for p in (source.get("utm_source"), source.get("utm_medium")) if p
    )
    if utm:
        return utm[:64]
    if label := source.get("src"):
        return label.strip().lower()[:64]
    if referrer := source.get("referrer"):
        return referrer.split("://", 1)[-1][:64]
    return DIRECT


def cohort_day(at: dt.datetime, timezone: str) -> str:
    """The day `at` falls on, on the dealership's clock."""
    return at.astimezone(ZoneInfo(timezone)).date().isoformat()


# The summary rows' keys: funnel_counts', and their totals' (without the source).
KEY_COLUMNS = ("dealer_id", "widget", "day", "source", "kind", "step", "field")
TOTAL_COLUMNS = ("dealer_id", "widget", "day", "kind", "step", "field")


def bump(conn: Connection, counts: Mapping[Key, int]) -> None:
    """Add `counts` to the summary rows and to their totals over the sources: two
    statements, however many rows."""
    if not counts:
        return
    totals: Counter[tuple[int, str, str, str, str, str]] = Counter()
    for (dealer_id, widget, day, _, kind, step, field), n in counts.items():
        totals[(dealer_id, widget, day, kind, step, field)] += n
    _upsert(conn, funnel_counts, KEY_COLUMNS, counts)
    _upsert(conn, funnel_totals, TOTAL_COLUMNS, totals)


def _upsert(
    conn: Connection, table: Any, columns: Sequence[str], counts: Mapping[Any, int]
) -> None:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table)
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c[name] for name in columns],
        set_={"n": table.c.n + stmt.excluded.n},
    )
    # Sorted: two transactions adding to the same rows take their locks in one order.
    conn.execute(
        stmt,
        [{**dict(zip(columns, k, strict=True)), "n": n} for k, n in sorted(counts.items())],
    )


async def first_exit(
    conn: AsyncConnection,
    draft_id: str,
    dealer_id: int,
    widget: str,
    cohort: tuple[str | None, str],
    step: str,
    field: str | None,
) -> None:
    """A draft's first exit, at `step` and `field`: kept on the draft, and counted."""
    await conn.execute(
        update(drafts)
        .where(drafts.c.id == draft_id)
        .values(first_exit_step=step, first_exit_field=field)
    )
    day, source = cohort
    if day is None:
        return
    key = (dealer_id, widget, day, source, "exited", step, field or "")
    await conn.run_sync(bump, {key: 1})


async def reach_stages(
    conn: AsyncConnection, lead_id: int, stages: Iterable[str], at: dt.datetime
) -> None:
    """The lead has reached `stages`: each one it had not reached before is dated `at` and
    counted in the cohort of the draft that captured it."""
    wanted = [s for s in STAGES if s in set(stages)]
    if not wanted:
        return
    row = (
        await conn.execute(
            select(
                leads.c.dealer_id,
                leads.c.cohort_day,
                leads.c.cohort_widget,
                leads.c.cohort_source,
                *(STAGE_COLUMNS[s] for s in wanted),
            ).where(leads.c.id == lead_id)
        )
    ).first()
    if row is None:
        return
    new = [s for s in wanted if row._mapping[STAGE_COLUMNS[s].name] is None]
    if not new:
        return
    # The stages are the team page's figures too (resume.queries.team_counts).
    async with team_counts.keeping(conn, lead_id):
        await conn.execute(
            update(leads)
            .where(leads.c.id == lead_id)
            .values({STAGE_COLUMNS[s].name: at for s in new})
        )
    if row.cohort_day is not None:
        counts = {
            (row.dealer_id, row.cohort_widget, row.cohort_day, row.cohort_source, s, "", ""): 1
            for s in new
        }
        await conn.run_sync(bump, counts)


class Count(msgspec.Struct, frozen=True):
    """One summary row, summed over the range and the dealerships asked for."""

    kind: str
    step: str
    field: str
    n: int


async def read(
    conn: AsyncConnection,
    dealer_ids: Sequence[int],
    widget: str,
    first: str,
    last: str,
    source: str | None,
) -> list[Count]:
    """The funnel's counts for `widget` at `dealer_ids`, for drafts begun from day `first`
    to day `last` (both included), from one source or all of them."""
    # Every source: their totals, a row per point a day rather than per source as well.
    table = funnel_totals if source is None else funnel_counts
    clauses = [
        table.c.dealer_id.in_(list(dealer_ids)),
        table.c.widget == widget,
        table.c.day >= first,
        table.c.day <= last,
    ]
    if source is not None:
        clauses.append(funnel_counts.c.source == source)
    result = await conn.execute(
        select(table.c.kind, table.c.step, table.c.field, func.sum(table.c.n).label("n"))
        .where(*clauses)
        .group_by(table.c.kind, table.c.step, table.c.field)
    )
    return [Count(r.kind, r.step, r.field, int(r.n)) for r in result]


async def sources(
    conn: AsyncConnection, dealer_ids: Sequence[int], widget: str, first: str, last: str
) -> list[tuple[str, int]]:
    """The sources drafts of the range came from, the most drafts first."""
    n = func.sum(funnel_counts.c.n).label("n")
    result = await conn.execute(
        select(funnel_counts.c.source, n)
        .where(
            funnel_counts.c.dealer_id.in_(list(dealer_ids)),
            funnel_counts.c.widget == widget,
            funnel_counts.c.day >= first,
            funnel_counts.c.day <= last,
            # Written out, not bound: so the planners see ix_funnel_counts_started applies.
            text(STARTED),
        )
        .group_by(funnel_counts.c.source)
        .order_by(n.desc(), funnel_counts.c.source)
        .limit(50)
    )
    return [(r.source, int(r.n)) for r in result]


async def started_by_widget(
    conn: AsyncConnection,
    dealer_ids: Sequence[int],
    widgets: Sequence[str],
    first: str,
    last: str,
) -> dict[str, int]:
    """Drafts begun in the range, by widget. The widgets are named so the key is used as far
    as the day: without them a dealership's whole year of rows is read."""
    n = func.sum(funnel_totals.c.n).label("n")
    result = await conn.execute(
        select(funnel_totals.c.widget, n)
        .where(
            funnel_totals.c.dealer_id.in_(list(dealer_ids)),
            funnel_totals.c.widget.in_(list(widgets)),
            funnel_totals.c.day >= first,
            funnel_totals.c.day <= last,
            funnel_totals.c.kind == "started",
        )
        .group_by(funnel_totals.c.widget)
    )
    return {r.widget: int(r.n) for r in result}


def rebuild(
    conn: Connection,
    steps: Mapping[tuple[int, str], Sequence[str]],
    dealer_ids: Sequence[int] | None = None,
) -> int:
    """Count the funnel again from what is stored, replacing the summary rows of every
    dealership (or of `dealer_ids`), and fill in the cohorts and first exits of drafts and
    leads stored before there were any. `steps` names each (dealer id, widget)'s steps in
    order. Returns how many drafts were counted."""
    which = select(dealers.c.id, dealers.c.timezone)
    if dealer_ids is not None:
        which = which.where(dealers.c.id.in_(list(dealer_ids)))
    found = conn.execute(which).all()
    for table in (funnel_counts, funnel_totals):
        conn.execute(delete(table).where(table.c.dealer_id.in_([d for d, _ in found])))
    total = 0
    for dealer_id, timezone in found:
        counts: Counter[Key] = Counter()
        cohorts = _draft_cohorts(conn, dealer_id, timezone)
        for row in conn.execute(
            select(
                drafts.c.id,
                drafts.c.widget,
                drafts.c.reached,
                drafts.c.lead_id,
                drafts.c.resumed_at,
                drafts.c.completed_at,
            ).where(drafts.c.dealer_id == dealer_id)
        ):
            day, source = cohorts[row.id]
            base = (dealer_id, row.widget, day, source)
            names = steps.get((dealer_id, row.widget), ())
            counts[(*base, "started", "", "")] += 1
            for name in names[: row.reached + 1]:
                counts[(*base, "reached", name, "")] += 1
            for kind, happened in (
                ("captured", row.lead_id is not None),
                ("resumed", row.resumed_at is not None),
                ("completed", row.completed_at is not None),
            ):
                if happened:
                    counts[(*base, kind, "", "")] += 1
            total += 1
        for row in _first_exits(conn, dealer_id):
            day, source = cohorts[row.id]
            key = (dealer_id, row.widget, day, source, "exited", row.step, row.field or "")
            counts[key] += 1
        _lead_stages(conn, dealer_id, counts)
        bump(conn, counts)
    if dealer_ids is None:
        conn.execute(delete(meta).where(meta.c.name == COUNTED))
        conn.execute(insert(meta).values(name=COUNTED, value="1"))
    return total


def counted(conn: Connection) -> bool:
    """Whether the drafts stored before the funnel existed are counted."""
    return conn.execute(select(meta.c.value).where(meta.c.name == COUNTED)).first() is not None


def _first_exits(conn: Connection, dealer_id: int) -> list[Any]:
    """Each exited draft's first exit, kept on the draft, or found in its events (and then
    kept) for drafts that exited before the draft kept it."""
    found = []
    missing: dict[str, Any] = {}
    for row in conn.execute(
        select(
            drafts.c.id, drafts.c.widget, drafts.c.first_exit_step, drafts.c.first_exit_field
        ).where(drafts.c.dealer_id == dealer_id, drafts.c.exits > 0)
    ):
        if row.first_exit_step is not None:
            found.append(_Exit(row.id, row.widget, row.first_exit_step, row.first_exit_field))
        else:
            missing[row.id] = row.widget
    if not missing:
        return found
    first: dict[str, _Exit] = {}
    for draft_id, step, field in conn.execute(
        select(events.c.draft_id, events.c.step, events.c.field)
        .where(events.c.dealer_id == dealer_id, events.c.kind == "exited")
        .order_by(events.c.id)
    ):
        if draft_id in missing and draft_id not in first:
            first[draft_id] = _Exit(draft_id, missing[draft_id], step or "", field)
    if first:
        conn.execute(
            update(drafts)
            .where(drafts.c.id == bindparam("b_id"))
            .values(first_exit_step=bindparam("b_step"), first_exit_field=bindparam("b_field")),
            [{"b_id": e.id, "b_step": e.step, "b_field": e.field} for e in first.values()],
        )
    return found + list(first.values())


class _Exit(msgspec.Struct, frozen=True):
    id: str
    widget: str
    step: str
    field: str | None


def _draft_cohorts(conn: Connection, dealer_id: int, timezone: str) -> dict[str, tuple[str, str]]:
    """Each draft's cohort, worked out and stored for those that had none."""
    found: dict[str, tuple[str, str]] = {}
    missing: list[dict[str, Any]] = []
    for row in conn.execute(
        select(
            drafts.c.id,
            drafts.c.created_at,
            drafts.c.cohort_day,
            drafts.c.cohort_source,
            drafts.c.utm_source,
            drafts.c.utm_medium,
            drafts.c.src,
            drafts.c.referrer,
        ).where(drafts.c.dealer_id == dealer_id)
    ):
        if row.cohort_day is not None:
            found[row.id] = (row.cohort_day, row.cohort_source)
            continue
        cohort = (cohort_day(row.created_at, timezone), source_key(row._mapping))
        found[row.id] = cohort
        missing.append({"b_id": row.id, "b_day": cohort[0], "b_source": cohort[1]})
    if missing:
        conn.execute(
            update(drafts)
            .where(drafts.c.id == bindparam("b_id"))
            .values(cohort_day=bindparam("b_day"), cohort_source=bindparam("b_source")),
            missing,
        )
    return found


def _lead_stages(conn: Connection, dealer_id: int, counts: Counter[Key]) -> None:
    """Each lead's cohort (its first draft's) and the stages its history shows it reached."""
    first: dict[int, tuple[str, str, str]] = {}
    for row in conn.execute(
        select(drafts.c.lead_id, drafts.c.widget, drafts.c.cohort_day, drafts.c.cohort_source)
        .where(drafts.c.dealer_id == dealer_id, drafts.c.lead_id.is_not(None))
        .order_by(drafts.c.created_at, drafts.c.id)
    ):
        first.setdefault(row.lead_id, (row.cohort_day, row.widget, row.cohort_source))
    reached: dict[int, dict[str, dt.datetime]] = {}
    for row in conn.execute(
        select(
            lead_activity.c.lead_id,
            lead_activity.c.kind,
            lead_activity.c.outcome,
            lead_activity.c.detail,
            lead_activity.c.at,
        )
        .where(
            lead_activity.c.dealer_id == dealer_id,
            lead_activity.c.kind.in_(("status", "attempt")),
        )
        .order_by(lead_activity.c.id)
    ):
        if row.kind == "attempt":
            passed: tuple[str, ...] = ("contacted",) if row.outcome in REACHED else ()
        else:
            passed = STATUS_STAGES.get((row.detail or {}).get("to", ""), ())
        for stage in passed:
            reached.setdefault(row.lead_id, {}).setdefault(stage, row.at)
    changes = []
    for row in conn.execute(
        select(leads.c.id, leads.c.status, leads.c.last_activity_at, *STAGE_COLUMNS.values()).where(
            leads.c.dealer_id == dealer_id
        )
    ):
        stages = reached.get(row.id, {})
        for stage in STATUS_STAGES.get(row.status, ()):
            stages.setdefault(stage, row.last_activity_at)
        change: dict[str, Any] = {"b_id": row.id}
        cohort = first.get(row.id)
        if cohort is not None:
            change.update(b_day=cohort[0], b_widget=cohort[1], b_source=cohort[2])
        else:
            change.update(b_day=None, b_widget="", b_source="")
        for stage, column in STAGE_COLUMNS.items():
            kept = row._mapping[column.name]
            change["b_" + stage] = kept or stages.get(stage)
            if change["b_" + stage] is not None and cohort is not None and cohort[0]:
                counts[(dealer_id, cohort[1], cohort[0], cohort[2], stage, "", "")] += 1
        changes.append(change)
    if changes:
        conn.execute(
            update(leads)
            .where(leads.c.id == bindparam("b_id"))
            .values(
                cohort_day=bindparam("b_day"),
                cohort_widget=bindparam("b_widget"),
                cohort_source=bindparam("b_source"),
                **{column.name: bindparam("b_" + stage) for stage, column in STAGE_COLUMNS.items()},
            ),
            changes,
        )
