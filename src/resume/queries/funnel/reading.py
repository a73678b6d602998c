"""The funnel page's reads: the summary rows summed over a range of days, the sources, the
drafts begun by widget."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from resume.tables import STARTED, funnel_counts, funnel_totals


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
