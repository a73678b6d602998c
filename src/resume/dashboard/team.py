"""The team's follow-through (issue #10, item 3), per store and per rep, for the leads
captured in a date range: how fast the first human attempt came (in the store's business
hours), how many attempts each lead got, how far leads went (contact, appointment, show,
sale), whether promised callbacks were made on time, which open leads nobody has touched
for a day, and which are stuck in a status past the store's limit.

Definitions, as the page states them:
- A lead is in the range when it was captured (became contactable) on one of its days, on
  its store's clock (the day kept with the lead when it was captured). Callbacks and the open
  lists use the same days' midnights.
- Response time: business minutes (resume.calc.business) from capture to the lead's first
  human attempt (`leads.first_attempt_at`, which only a logged attempt sets: automatic
  emails never do). Median and 90th percentile are nearest-rank, over the leads that have had
  an attempt; the shares within 5, 15 and 60 minutes are over those leads too, and the leads
  with no attempt yet are counted beside them.
- Attempts: the distribution of `leads.attempts` over every lead in the range.
- Contact, appointment set and sold rates are over every lead in the range, each counting the
  leads that ever reached that stage (`contacted_at`... set once, whatever the status now);
  the show rate is over the leads that had an appointment set.
- Promises kept: callbacks due in the range whose time has come, done no later than
  CALLBACK_GRACE after it (early counts as kept); one not done yet and still within its grace
  is not counted either way. Per rep is per the callback's owner.
- No human action for a day: open leads captured in the range whose newest timeline entry by
  a person (attempt, status, note, owner, callback...) is more than 24 hours old, or who have
  none and were captured more than 24 hours ago. A shopper's own saves don't count: a lead
  whose shopper came back but no one answered is exactly one to list.
- Stuck: open leads captured in the range that entered their status (their newest status
  change, else capture) longer ago than the store's limit for it (DealerConfig.status_limits),
  grouped by the week they went over it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from zoneinfo import ZoneInfo

import msgspec

from resume.dashboard.team_figures import (
    Figures,
    Tally,
    links,
)
from resume.db import Database
from resume.dealers import OPEN_STATUSES, Dealer
from resume.errors import BadRequest, NotFound
from resume.leads import clock
from resume.queries import dealers as dealers_q
from resume.queries import leads as leads_q
from resume.queries import stuck as stuck_q
from resume.queries import team as team_q
from resume.queries import team_counts
from resume.queries.staff import Account
from resume.queries.stuck import Over
from resume.queries.team import Counted, Promised, Waiting, Window
from resume.staff.roles import role

DEFAULT_DAYS = 30
LONGEST_DAYS = 366
STALE = dt.timedelta(hours=24)
LISTED = 50  # rows of each list of leads shown
MOST_STORES = 100
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


class Line(msgspec.Struct, frozen=True):
    """One row of a table: a store, a rep at a store, or all the chosen stores."""

    label: str
    store: str
    figures: Figures
    # The lead list behind each figure ("" where the list can't show exactly those leads).
    links: dict[str, str]


class Week(msgspec.Struct, frozen=True):
    start: dt.date  # its Monday
    counts: tuple[int, ...]  # by status, as STUCK_STATUSES
    total: int


class Stuck(msgspec.Struct, frozen=True):
    lead: Waiting
    store: str
    hours: int  # the limit it passed
    over_since: dt.datetime


class Neglected(msgspec.Struct, frozen=True):
    lead: Waiting
    store: str


class TeamPage(msgspec.Struct, frozen=True):
    start: dt.date
    end: dt.date  # inclusive
    chosen: list[Dealer]
    choices: list[Dealer]  # every store the account covers
    stores: list[Line]  # one a store, then all of them together when there are several
    reps: list[Line]
    neglected: list[Neglected]
    neglected_count: int
    stuck: list[Stuck]
    stuck_count: int
    weeks: list[Week]
    statuses: tuple[str, ...]  # the statuses with a limit at one of the chosen stores
    limits: dict[int, dict[str, int]]  # by store, the limits in hours


def _day(value: str, what: str) -> dt.date | None:
    if not value:
        return None
    if len(value) > 10 or not _DATE.match(value):
        raise BadRequest(f"The {what} date should look like 2026-12-01.")
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise BadRequest(f"The {what} date {value} is not a day of the calendar.") from None
    if not 2000 <= day.year <= 2999:
        raise BadRequest(f"The {what} date should be a day between the years 2000 and 2999.")
    return day


def _store_ids(values: Sequence[str]) -> list[int]:
    if len(values) > MOST_STORES:
        raise BadRequest(f"Choose at most {MOST_STORES} stores.")
    ids = []
    for value in values:
        if not value.isdigit() or len(value) > 12:
            raise BadRequest("A store in the filter isn't one of your dealerships.")
        if int(value) not in ids:
            ids.append(int(value))
    return ids


def _midnight(day: dt.date, zone: str) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=ZoneInfo(zone)).astimezone(dt.UTC)


class Team:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def count_stored(self) -> int | None:
        """Count the leads stored before the team page kept its rows (`resume migrate`'s
        last step), once: their response times and timeline times kept first, as the
        product keeps them when the first attempt and each entry are written. Returns how
        many leads were counted; None if already done."""
        async with self.db.read() as conn:
            if await conn.run_sync(team_counts.counted):
                return None
            everyone = await dealers_q.all_dealers(conn)
        async with self.db.write() as conn:
            for dealer in everyone:
                measured = {
                    lead_id: clock(captured, first, first, dealer.config, dealer.timezone)[0]
                    for lead_id, captured, first in await leads_q.unmeasured(conn, dealer.id)
                }
                await leads_q.keep_response_minutes(conn, measured)
            await leads_q.keep_timeline_times(conn)
            return int(await conn.run_sync(team_counts.rebuild))

    def may(self, account: Account) -> None:
        # The numbers are for those whose role sees them (admins, managers); for anyone
        # else there is no such page.
        if not role(account.role).sees_numbers:
            raise NotFound()

    async def page(
        self,
        account: Account,
        *,
        start: str = "",
        end: str = "",
        stores: Sequence[str] = (),
        now: dt.datetime | None = None,
    ) -> TeamPage:
        """The team page for the range and stores asked for (checked here: a bad date is a
        400, a dealership the account doesn't cover a 404)."""
        self.may(account)
        now = now or dt.datetime.now(dt.UTC)
        first, last = _day(start, "from"), _day(end, "to")
        wanted = _store_ids(stores)
        async with self.db.read() as conn:
            choices = [d for d in await dealers_q.all_dealers(conn) if d.id in account.dealer_ids]
        known = {d.id: d for d in choices}
        if any(i not in known for i in wanted):
            raise NotFound("There is no such dealership among yours.")
        chosen = [known[i] for i in sorted(wanted)] if wanted else choices
        if not chosen:
            raise NotFound("Your account covers no dealership yet.")
        today = now.astimezone(ZoneInfo(chosen[0].timezone)).date()
        last = last or (
            today if first is None else min(first + dt.timedelta(DEFAULT_DAYS - 1), today)
        )
        first = first or last - dt.timedelta(days=DEFAULT_DAYS - 1)
        if last < first:
            raise BadRequest(
                "The range starts after today: choose a 'from' date that has come."
                if end == "" and first > today
                else "The range ends before it starts: choose a 'to' date after 'from'."
            )
        if (last - first).days + 1 > LONGEST_DAYS:
            raise BadRequest(f"Choose a range of at most {LONGEST_DAYS} days.")
        windows = [
            Window(
                d.id, _midnight(first, d.timezone), _midnight(last + dt.timedelta(1), d.timezone)
            )
            for d in chosen
        ]
        limits = {
            (d.id, status): dt.timedelta(hours=hours)
            for d in chosen
            for status, hours in d.config.status_limits.items()
        }
        async with self.db.read() as conn:
            counted = await team_q.counted(conn, [d.id for d in chosen], first, last)
            promises = await team_q.promises(conn, windows, now)
            neglected, neglected_count = await team_q.neglected(conn, windows, now - STALE, LISTED)
            overs, entered = await stuck_q.stuck(
                conn,
                [
                    stuck_q.Store(w, d.timezone, _limits(d))
                    for d, w in zip(chosen, windows, strict=True)
                ],
                now,
                LISTED,
            )
            shown = await team_q.waiting(conn, [e.id for e in entered])
            people = await team_q.names(
                conn,
                [c.owner_id for c in counted if c.owner_id is not None]
                + [p.staff_id for p in promises if p.staff_id is not None],
            )
        stores_, reps = self._lines(chosen, choices, counted, promises, people, first, last)
        names = {d.id: d.name for d in chosen}
        statuses = tuple(
            s for s in OPEN_STATUSES if any(s in d.config.status_limits for d in chosen)
        )
        over = [
            Stuck(
                lead=shown[e.id],
                store=names[e.dealer_id],
                hours=int(limits[(e.dealer_id, e.status)].total_seconds() // 3600),
                over_since=e.since + limits[(e.dealer_id, e.status)],
            )
            for e in entered
            if e.id in shown  # sold or lost between the two reads: no longer stuck
        ]
        return TeamPage(
            start=first,
            end=last,
            chosen=chosen,
            choices=choices,
            stores=stores_,
            reps=reps,
            neglected=[Neglected(w, names[w.dealer_id]) for w in neglected],
            neglected_count=neglected_count,
            stuck=over,
            stuck_count=sum(o.n for o in overs),
            weeks=_weeks(overs, statuses),
            statuses=statuses,
            limits={d.id: dict(d.config.status_limits) for d in chosen},
        )

    def _lines(
        self,
        chosen: list[Dealer],
        choices: list[Dealer],
        counted: Iterable[Counted],
        promises: Iterable[Promised],
        people: dict[int, str],
        first: dt.date,
        last: dt.date,
    ) -> tuple[list[Line], list[Line]]:
        by_id = {d.id: d for d in chosen}
        everyone = Tally()
        stores: dict[int, Tally] = {d.id: Tally() for d in chosen}
        reps: dict[tuple[int, int | None], Tally] = defaultdict(Tally)
        for row in counted:
            for tally in (everyone, stores[row.dealer_id], reps[(row.dealer_id, row.owner_id)]):
                tally.add_counted(row)
        for promised in promises:
            for tally in (
                everyone,
                stores[promised.dealer_id],
                reps[(promised.dealer_id, promised.staff_id)],
            ):
                tally.add_promised(promised)
        span = {"since": first.isoformat(), "until": (last + dt.timedelta(1)).isoformat()}
        store_lines = [
            Line(d.name, d.name, stores[d.id].figures(), links({"dealer": d.slug, **span}))
            for d in chosen
        ]
        if len(chosen) > 1:
            # The list shows every store the account covers when it is not told which, and
            # several when told `dealers=a,b`.
            whole = {d.id for d in chosen} == {d.id for d in choices}
            several = {"dealers": ",".join(d.slug for d in chosen)}
            store_lines.append(
                Line(
                    f"All {len(chosen)} stores",
                    "",
                    everyone.figures(),
                    links(span if whole else {**several, **span}),
                )
            )

        def order(key: tuple[int, int | None]) -> tuple[int, int, str]:
            dealer_id, owner = key
            label = people.get(owner, "") if owner is not None else ""
            return ([d.id for d in chosen].index(dealer_id), owner is None, label.lower())

        rep_lines = []
        for key in sorted(reps, key=order):
            dealer_id, owner = key
            dealer = by_id[dealer_id]
            label = "Unassigned" if owner is None else people.get(owner, f"Staff {owner}")
            base = {
                "dealer": dealer.slug,
                **span,
                **({"owner": "unassigned"} if owner is None else {"rep": str(owner)}),
            }
            rep_lines.append(Line(label, dealer.name, reps[key].figures(), links(base)))
        return store_lines, rep_lines


def _limits(dealer: Dealer) -> dict[str, dt.timedelta]:
    return {s: dt.timedelta(hours=h) for s, h in dealer.config.status_limits.items()}


def _weeks(overs: list[Over], statuses: tuple[str, ...]) -> list[Week]:
    """The stuck leads by the week (Monday first, on the store's clock) they went over the
    limit, newest week first."""
    counts: dict[dt.date, list[int]] = defaultdict(lambda: [0] * len(statuses))
    for item in overs:
        if item.status in statuses:
            counts[item.week][statuses.index(item.status)] += item.n
    return [
        Week(start=monday, counts=tuple(row), total=sum(row))
        for monday, row in sorted(counts.items(), reverse=True)
    ]
