"""The funnel counted again from the drafts, events and leads themselves: for a database that
had drafts before the funnel existed, and as the check the tests hold the running counts to."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec
from sqlalchemy import Connection, bindparam, delete, insert, select, update

from resume.leads import REACHED
from resume.queries.funnel.counting import (
    STAGE_COLUMNS,
    STATUS_STAGES,
    Key,
    bump,
    cohort_day,
    source_key,
)
from resume.tables import (
    dealers,
    drafts,
    events,
    funnel_counts,
    funnel_totals,
    lead_activity,
    leads,
    meta,
)

# The meta row that says the drafts stored so far are counted.
COUNTED = "funnel_counted"


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
