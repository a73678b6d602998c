"""The funnel (issue #10, item 2): for one widget, the drafts begun in a range of days at one
dealership or several, from one source or all, and how far they got, step by step, to the
lead's sale. Read from the summary rows (resume.queries.funnel), never from the drafts.

Every figure is a count of drafts (the leads' stages: of leads) with its share, and the
address of the lead list that shows the leads behind it. A draft nobody can be reached at is
counted but has no lead to list.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from urllib.parse import urlencode

import msgspec

from resume.catalog import Catalog
from resume.dashboard.team import Team
from resume.db import Database
from resume.dealers import Dealer
from resume.definitions import Widget
from resume.errors import BadRequest
from resume.queries import dealers as dealers_q
from resume.queries import funnel as funnel_q
from resume.queries import team_counts
from resume.settings import Settings
from resume.staff.roles import role

# The longest range a page adds up: a little over a year, its rows a few per day.
LONGEST = dt.timedelta(days=400)
# The exit fields shown for each step, the most common first.
TOP_FIELDS = 5
STAGE_LABELS = {
    "contacted": "Contacted",
    "appointment": "Appointment set",
    "shown": "Shown",
    "sold": "Sold",
}


class Asked(msgspec.Struct, frozen=True):
    """What a funnel page asks for, checked against the account's dealerships."""

    widget: str
    first: dt.date
    last: dt.date
    dealers: tuple[Dealer, ...]
    source: str | None = None


class Figure(msgspec.Struct, frozen=True):
    label: str
    n: int
    # Of what the share is taken, in words, and the share itself (None: nothing to share).
    of: str
    share: float | None
    leads: str


class StepRow(msgspec.Struct, frozen=True):
    name: str
    title: str
    reached: Figure
    exited: Figure
    fields: tuple[Figure, ...]


class View(msgspec.Struct, frozen=True):
    asked: Asked
    started: Figure
    steps: tuple[StepRow, ...]
    captured: Figure
    resumed: Figure
    completed: Figure
    downstream: tuple[Figure, ...]
    sources: tuple[tuple[str, int], ...]


def share(n: int, of: int) -> float | None:
    return n / of if of else None


class Funnel:
    def __init__(self, db: Database, catalog: Catalog) -> None:
        self.db = db
        self.catalog = catalog

    def check(
        self,
        everyone: Sequence[Dealer],
        widget: str,
        first: dt.date | None,
        last: dt.date | None,
        chosen: Sequence[Dealer],
        source: str | None,
        today: dt.date,
    ) -> Asked:
        """The page's request, or a BadRequest saying what is wrong with it."""
        if widget not in self.catalog.widgets:
            raise BadRequest("There is no such form to show the funnel of.")
        last = last or today
        first = first or last - dt.timedelta(days=29)
        if first > last:
            raise BadRequest("The range's first day is after its last day.")
        if last - first > LONGEST:
            raise BadRequest("Choose a range of at most 400 days.")
        if source is not None and (not source.strip() or len(source) > 64):
            raise BadRequest("That source is not one the funnel knows.")
        return Asked(
            widget=widget, first=first, last=last, dealers=tuple(chosen or everyone), source=source
        )

    async def view(self, asked: Asked) -> View:
        ids = [d.id for d in asked.dealers]
        first, last = asked.first.isoformat(), asked.last.isoformat()
        async with self.db.read() as conn:
            counts = await funnel_q.read(conn, ids, asked.widget, first, last, asked.source)
            sources = await funnel_q.sources(conn, ids, asked.widget, first, last)
        return _build(asked, self.catalog.widgets[asked.widget], counts, sources)

    async def busiest(self, dealers: Sequence[Dealer], today: dt.date) -> list[str]:
        """The widgets, the one with the most drafts begun in the last 30 days first: the
        page a manager opens first is the widget the shoppers use most."""
        first = (today - dt.timedelta(days=29)).isoformat()
        async with self.db.read() as conn:
            order = list(self.catalog.widgets)
            started = await funnel_q.started_by_widget(
                conn, [d.id for d in dealers], order, first, today.isoformat()
            )
        return sorted(order, key=lambda slug: (-started.get(slug, 0), order.index(slug)))

    async def count_stored(self) -> int | None:
        """Count the drafts stored before the funnel existed, once: None if already done."""
        async with self.db.read() as conn:
            if await conn.run_sync(funnel_q.counted):
                return None
            everyone = await dealers_q.all_dealers(conn)
        steps = {
            (d.id, slug): tuple(s.name for s in self._steps(slug, d))
            for d in everyone
            for slug in self.catalog.widgets
        }
        async with self.db.write() as conn:
            counted = await conn.run_sync(funnel_q.rebuild, steps)
            # Counting dates the stages of the leads stored before: the team page's rows
            # are counted again after it (resume.dashboard.team.Team.count_stored).
            await conn.run_sync(team_counts.uncount)
            return counted

    async def recount(self, dealer_ids: Sequence[int]) -> int:
        """Count these dealerships' funnels again from their drafts, and their team figures
        from their leads (the demo's history)."""
        async with self.db.read() as conn:
            found = [d for d in await dealers_q.all_dealers(conn) if d.id in set(dealer_ids)]
        steps = {
            (d.id, slug): tuple(s.name for s in self._steps(slug, d))
            for d in found
            for slug in self.catalog.widgets
        }
        async with self.db.write() as conn:
            counted = await conn.run_sync(funnel_q.rebuild, steps, list(dealer_ids))
            # The team page's rows too: the history's leads changed as of the past.
            await conn.run_sync(team_counts.rebuild, list(dealer_ids))
            return counted

    def _steps(self, slug: str, dealer: Dealer) -> Sequence[object]:
        widget = self.catalog.for_dealer(slug, dealer)
        return widget.steps_for(dealer.config.flags())


def may_see(account_role: str) -> bool:
    return role(account_role).sees_numbers


def _build(
    asked: Asked,
    widget: Widget,
    counts: Sequence[funnel_q.Count],
    sources: Sequence[tuple[str, int]],
) -> View:
    by: dict[tuple[str, str], int] = {}
    fields: dict[str, dict[str, int]] = {}
    for c in counts:
        if c.kind == "exited":
            fields.setdefault(c.step, {})[c.field] = fields.get(c.step, {}).get(c.field, 0) + c.n
            by[("exited", c.step)] = by.get(("exited", c.step), 0) + c.n
        else:
            by[(c.kind, c.step)] = by.get((c.kind, c.step), 0) + c.n
    started = by.get(("started", ""), 0)
    link = _Links(asked)
    labels = {name: f.label for name, f in widget.all_fields().items()}
    rows = []
    for step in widget.steps:
        reached = by.get(("reached", step.name), 0)
        exited = by.get(("exited", step.name), 0)
        if step.when and not reached and not exited:
            # A step only some dealerships show (payment's contact step before the result)
            # that no draft of these reached: listing it would read as a step everybody
            # skipped, between two that most reach.
            continue
        top = sorted(fields.get(step.name, {}).items(), key=lambda kv: (-kv[1], kv[0]))
        rows.append(
            StepRow(
                name=step.name,
                title=step.title,
                reached=Figure(
                    f"Reached {step.title}",
                    reached,
                    "of started",
                    share(reached, started),
                    link("reached", step=step.name),
                ),
                exited=Figure(
                    f"Left at {step.title}",
                    exited,
                    "of those reaching it",
                    share(exited, reached),
                    link("exited", step=step.name),
                ),
                fields=tuple(
                    Figure(
                        labels.get(name, name) if name else "No field (left on arrival)",
                        n,
                        "of exits here",
                        share(n, exited),
                        link("exited", step=step.name, field=name or "-"),
                    )
                    for name, n in top[:TOP_FIELDS]
                ),
            )
        )
    captured = by.get(("captured", ""), 0)

    def point(kind: str, label: str, of: str, whole: int) -> Figure:
        n = by.get((kind, ""), 0)
        return Figure(label, n, of, share(n, whole), link(kind))

    return View(
        asked=asked,
        started=Figure("Drafts started", started, "", None, link("started")),
        steps=tuple(rows),
        captured=point("captured", "Partial leads (an email or phone)", "of started", started),
        resumed=point("resumed", "Came back by a link", "of started", started),
        completed=point("completed", "Completed", "of started", started),
        downstream=tuple(
            point(stage, label, "of partial leads", captured)
            for stage, label in STAGE_LABELS.items()
        ),
        sources=tuple(sources),
    )


class _Links:
    """The lead list's address for the leads behind one figure (resume.web.dashboard.leads
    reads these parameters)."""

    def __init__(self, asked: Asked) -> None:
        base: list[tuple[str, str]] = [
            ("began", asked.widget),
            ("from", asked.first.isoformat()),
            ("to", asked.last.isoformat()),
        ]
        base.append(("dealers", ",".join(d.slug for d in asked.dealers)))
        if asked.source is not None:
            base.append(("source", asked.source))
        self.base = base

    def __call__(self, point: str, step: str = "", field: str = "") -> str:
        query = [*self.base, ("point", point)]
        if step:
            query.append(("step", step))
        if field:
            query.append(("field", field))
        return "/dashboard/leads?" + urlencode(query)


async def count_stored_drafts(settings: Settings) -> tuple[int | None, int | None]:
    """`resume migrate`'s last step: count the drafts stored before the funnel existed (once,
    after migration 0012), then the leads stored before the team page's rows (once, after
    0016; it needs the response times the first keeps). Each is None when already done."""
    db = Database(settings)
    try:
        drafts = await Funnel(db, Catalog.load()).count_stored()
        return drafts, await Team(db).count_stored()
    finally:
        await db.dispose()
