"""The lead list's queries: its filters, a page by keyset, and a capped count. Everything it
filters on is on the lead's own row or one index away (design rule 12), the funnel's figures
(`Cohort`) and the team page's among them (issue #10).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
from sqlalchemy import and_, exists, false, func, literal, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from resume.leads import APPOINTMENT
from resume.queries.leads import Lead, lead_from, select_leads
from resume.tables import drafts, leads

# The list says "10,000+" rather than count further (design rule 12).
COUNT_CAP = 10_000


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
    # The team page's figures (issue #10, item 3): one rep's leads, a number of attempts
    # (the top one means that many or more), a stage ever reached, answered within so many
    # business minutes, or not answered yet.
    owner_id: int | None = None
    attempts: int | None = None
    attempts_or_more: bool = False
    reached: str = ""
    answered_within: int | None = None
    unanswered: bool = False


def _where(found: Filter, now: dt.datetime) -> list[Any]:
    return [leads.c.dealer_id.in_(found.dealer_ids), *_narrowing(found, now)]


def _narrowing(found: Filter, now: dt.datetime) -> list[Any]:
    """Every clause of the filter but the dealerships."""
    clauses: list[Any] = []
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
    if found.owner_id is not None:
        clauses.append(leads.c.owner_id == found.owner_id)
    if found.attempts is not None:
        clauses.append(
            leads.c.attempts >= found.attempts
            if found.attempts_or_more
            else leads.c.attempts == found.attempts
        )
    if found.reached:
        clauses.append(STAGE_REACHED[found.reached].is_not(None))
    if found.answered_within is not None:
        clauses.append(leads.c.response_minutes <= found.answered_within)
    if found.unanswered:
        clauses.append(leads.c.first_attempt_at.is_(None))
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
    """A page of the list by keyset, never OFFSET: `after` is the last row's (time, id).

    Across several dealerships, each one's page is read by its own index in the list's
    order and the pages merged (UNION ALL): an index led by the dealership gives one
    dealership's rows in order, never several's, so one query over all of them would read
    and sort every match of every dealership to return 25."""
    key = leads.c.last_activity_at if found.sort == "activity" else leads.c.captured_at
    if len(found.dealer_ids) <= 1:
        query = _ordered(select_leads().where(*_where(found, now)), found, key, after)
        return [lead_from(row) for row in await conn.execute(query.limit(limit))]
    # Each branch picks only (id, key): the rows' columns are read once, for the page's own
    # rows. A branch of every column cost more to build in Python (SQLAlchemy's column
    # proxies, 20 dealerships x 36 columns) than the database took to answer it (issue #10's
    # bench: 60 ms of a 100 ms page at 10,000 drafts). The clauses are built once and shared.
    narrowing = _narrowing(found, now)
    parts = []
    for dealer_id in found.dealer_ids:
        one = select(leads.c.id, key).where(leads.c.dealer_id == dealer_id, *narrowing)
        inner = _ordered(one, found, key, after).limit(limit).subquery()
        parts.append(select(*inner.c))
    merged = union_all(*parts).subquery()
    column = merged.c[key.name]
    if found.sort == "activity":
        order = (column.desc(), merged.c.id.desc())
    else:
        order = (column, merged.c.id)
    chosen = select(merged.c.id).order_by(*order).limit(limit)
    query = _ordered(select_leads().where(leads.c.id.in_(chosen)), found, key, None)
    return [lead_from(row) for row in await conn.execute(query)]


def _ordered(query: Any, found: Filter, key: Any, after: tuple[dt.datetime, int] | None) -> Any:
    if after is not None:
        if found.sort == "activity":
            query = query.where(or_(key < after[0], and_(key == after[0], leads.c.id < after[1])))
        else:
            query = query.where(or_(key > after[0], and_(key == after[0], leads.c.id > after[1])))
    if found.sort == "activity":
        return query.order_by(key.desc(), leads.c.id.desc())
    return query.order_by(key, leads.c.id)


async def count(conn: AsyncConnection, found: Filter, *, now: dt.datetime) -> int:
    """How many leads match, counting no further than COUNT_CAP + 1."""
    inner = select(literal(1)).select_from(leads).where(*_where(found, now)).limit(COUNT_CAP + 1)
    return int(
        (await conn.execute(select(func.count()).select_from(inner.subquery()))).scalar_one()
    )
