"""The team page's stuck view (issue #10, item 3) against a history worked out here: two
stores on different clocks (one half an hour off the hour), a few hundred open and closed
leads entering their statuses at random times, counted by the week they went over their
store's limit and the earliest of them listed, for list lengths that stop the earliest's
read at every point of the range and one that reads it all. And the rule the read relies
on: a lead never enters its status before it was captured, whatever order its timeline is
written in.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from conftest import run
from sqlalchemy import select
from test_dashboard_security import other_dealer
from test_team import insert_rows

from resume.db import Database
from resume.leads import STATUSES
from resume.queries import leads as leads_q
from resume.queries import stuck as stuck_q
from resume.queries.team import CLOSED, Window
from resume.tables import leads

WEIGHTED = ("new", "new", "attempting", "contacted", "appointment_set") * 3
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
LIMITS = {
    1: ("America/Chicago", {"new": 48, "attempting": 72, "contacted": 120}),
    2: ("Asia/Kolkata", {"new": 24, "appointment_set": 36}),
}


def _midnight(day: dt.date, zone: str) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=ZoneInfo(zone)).astimezone(dt.UTC)


def history(settings: Any) -> tuple[list[stuck_q.Store], list[dict[str, Any]]]:
    """Demo Motors and a store in Kolkata, their windows (45 days) and leads: captured over
    the last 60 days, some in the status they were captured in, some moved on since."""
    second = other_dealer(settings)
    zones = {1: LIMITS[1], second: LIMITS[2]}
    rng = random.Random(20261203)
    rows = []
    for n in range(360):
        dealer_id = 1 if n % 3 else second
        captured = NOW - dt.timedelta(minutes=rng.randint(0, 60 * 24 * 60))
        moved = rng.random() < 0.6
        entered = captured + dt.timedelta(minutes=rng.randint(0, 60 * 24 * 12))
        rows.append(
            {
                "dealer_id": dealer_id,
                "email": f"s{n}@example.com",
                "name": f"Shopper {n}",
                # Mostly the statuses with a limit, and some of every other.
                "status": rng.choice([*WEIGHTED, *STATUSES]),
                "captured_at": captured,
                "last_activity_at": captured,
                "status_at": min(entered, NOW) if moved else None,
                "widget": "payment",
                "widgets": "payment",
            }
        )
    for row, lead_id in zip(rows, insert_rows(settings, leads, rows), strict=True):
        row["id"] = lead_id
    stores = []
    for dealer_id, (zone, hours) in zones.items():
        today = NOW.astimezone(ZoneInfo(zone)).date()
        window = Window(
            dealer_id,
            _midnight(today - dt.timedelta(days=44), zone),
            _midnight(today + dt.timedelta(days=1), zone),
        )
        limits = {s: dt.timedelta(hours=h) for s, h in hours.items()}
        stores.append(stuck_q.Store(window, zone, limits))
    return stores, rows


def worked_out(
    stores: list[stuck_q.Store], rows: list[dict[str, Any]], listed: int
) -> tuple[Counter[tuple[int, str, dt.date]], list[tuple[int, dt.datetime]]]:
    """The counts by (store, status, Monday it went over on the store's clock) and the
    `listed` earliest over (id, since), lead by lead."""
    counts: Counter[tuple[int, str, dt.date]] = Counter()
    over = []
    for store in stores:
        w = store.window
        for row in rows:
            limit = store.limits.get(row["status"])
            if row["dealer_id"] != w.dealer_id or limit is None or row["status"] in CLOSED:
                continue
            if not w.start <= row["captured_at"] < w.end:
                continue
            since = row["status_at"] or row["captured_at"]
            if since + limit >= NOW:
                continue
            local = (since + limit).astimezone(ZoneInfo(store.zone)).date()
            counts[(w.dealer_id, row["status"], local - dt.timedelta(local.weekday()))] += 1
            over.append((since + limit, row["id"], since))
    return counts, [(lead_id, since) for _, lead_id, since in sorted(over)[:listed]]


def test_the_counts_and_the_earliest_are_the_history_worked_out_lead_by_lead(
    settings: Any,
) -> None:
    stores, rows = history(settings)
    everything, _ = worked_out(stores, rows, 0)
    assert sum(everything.values()) > 100  # enough stuck for every cut below to matter
    assert len({key[2] for key in everything}) >= 6  # over many weeks

    async def read(listed: int) -> tuple[list[stuck_q.Over], list[stuck_q.Entered]]:
        db = Database(settings)
        try:
            async with db.read() as conn:
                return await stuck_q.stuck(conn, stores, NOW, listed)
        finally:
            await db.dispose()

    for listed in (1, 7, 50, 120, 1000):
        counts, entered = run(read(listed))
        expected, earliest = worked_out(stores, rows, listed)
        assert Counter({(o.dealer_id, o.status, o.week): o.n for o in counts}) == expected
        assert len(counts) == len(expected)  # no week counted twice
        assert [(e.id, e.since) for e in entered] == earliest, listed
        assert {e.status for e in entered} <= {s for _, (_, h) in LIMITS.items() for s in h}


@pytest.mark.parametrize("before", [dt.timedelta(hours=5), dt.timedelta(0)])
def test_a_status_written_as_of_before_the_capture_entered_it_at_the_capture(
    settings: Any, before: dt.timedelta
) -> None:
    captured = NOW - dt.timedelta(days=3)
    (lead_id,) = insert_rows(
        settings,
        leads,
        [
            {
                "dealer_id": 1,
                "email": "early@example.com",
                "name": "Early Entry",
                "status": "contacted",
                "captured_at": captured,
                "last_activity_at": captured,
                "widget": "payment",
                "widgets": "payment",
            }
        ],
    )

    async def write_and_read() -> Any:
        db = Database(settings)
        try:
            async with db.write() as conn:
                await leads_q.add_activity(
                    conn,
                    lead_id=lead_id,
                    dealer_id=1,
                    staff_id=None,
                    kind="status",
                    at=captured - before,
                    detail={"to": "contacted"},
                )
            async with db.read() as conn:
                return (
                    await conn.execute(select(leads.c.status_at).where(leads.c.id == lead_id))
                ).scalar_one()
        finally:
            await db.dispose()

    assert run(write_and_read()) == captured
