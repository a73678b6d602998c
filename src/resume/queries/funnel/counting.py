"""The funnel's summary rows on the write path: a draft's cohort, and one added to its
cohort's row for each point of the funnel it reaches, in the transaction that records it."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from resume.queries import team_counts
from resume.tables import drafts, funnel_counts, funnel_totals, leads

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
# A draft with no campaign, placement label or referrer.
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
