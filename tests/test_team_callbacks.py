"""Promises kept on the team page (issue #10, item 3), from the callbacks as the product writes
them: each callback keeps when it is missed (`late_at`, its time plus the 15 minutes' grace)
on its row, so the page counts kept and missed in SQL; the rep's own form writes it, and the
migration that added it worked it out for the callbacks already stored.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from conftest import (
    BACKENDS,
    PG_HOST,
    Shopper,
    Staff,
    Store,
    _pg_admin,
    make_settings,
    run,
    saved_for_later,
)
from sqlalchemy import text
from test_dashboard_security import other_dealer

from resume.dashboard.team import Team
from resume.db import Database
from resume.migrations import migrate
from resume.queries import staff as staff_q

GRACE = dt.timedelta(minutes=15)  # the page says: done within 15 minutes of its time
CHICAGO = ZoneInfo("America/Chicago")
MANAGER = "morgan.mgr@demo-motors.example"


def team_page(settings: Any, email: str, now: dt.datetime, day: dt.date) -> Any:
    """Demo Motors' team page for the days around `day`, as the manager would see it at `now`."""

    async def read() -> Any:
        db = Database(settings)
        try:
            async with db.read() as conn:
                account = await staff_q.by_email(conn, email)
            assert account is not None
            return await Team(db).page(
                account,
                start=(day - dt.timedelta(days=1)).isoformat(),
                end=(day + dt.timedelta(days=1)).isoformat(),
                now=now,
            )
        finally:
            await db.dispose()

    return run(read())


def test_a_rep_s_callbacks_are_kept_or_missed_by_their_time_and_the_grace(
    client: Any, settings: Any, store: Store
) -> None:
    Staff.invited(client, settings, MANAGER, "manager")  # whose page is read below
    rep = Staff.active(client, settings, "pat.rep@demo-motors.example", "sales")
    draft_id = saved_for_later(Shopper(client), "sam@example.com", consent=True)
    lead = int(store.one("SELECT lead_id FROM drafts WHERE id = :d", d=draft_id)["lead_id"])
    due = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0) + dt.timedelta(hours=2)
    for note in ("Call at two with numbers", "Call again"):
        rep.post(
            f"/dashboard/leads/{lead}/callback",
            due=due.astimezone(CHICAGO).strftime("%Y-%m-%dT%H:%M"),
            note=note,
        )
        assert "Callback promised" in rep.page.text
    rows = store.rows(
        "SELECT id, due_at, late_at FROM callbacks WHERE lead_id = :l ORDER BY id", l=lead
    )
    assert len(rows) == 2
    for row in rows:
        assert _instant(row["late_at"]) == _instant(row["due_at"]) + GRACE == due + GRACE
    # The first is done now, early: kept. The second is never done.
    rep.post(f"/dashboard/leads/{lead}/callback-done", callback=str(rows[0]["id"]))
    day = due.astimezone(CHICAGO).date()

    # Five minutes after its time, the open one may still be kept: only the done one counts.
    within = team_page(settings, MANAGER, due + dt.timedelta(minutes=5), day)
    store_line = within.stores[0].figures
    assert (store_line.promised, store_line.kept) == (1, 1)
    # Twenty minutes after, it is missed: one kept of two, on the store's row and the rep's.
    after = team_page(settings, MANAGER, due + dt.timedelta(minutes=20), day)
    assert (after.stores[0].figures.promised, after.stores[0].figures.kept) == (2, 1)
    (pat,) = [line for line in after.reps if line.label.lower().startswith("pat")]
    assert (pat.figures.promised, pat.figures.kept) == (2, 1)
    # And before their time, neither is due: nothing is counted.
    early = team_page(settings, MANAGER, due - dt.timedelta(minutes=1), day)
    assert (early.stores[0].figures.promised, early.stores[0].figures.kept) == (0, 0)


def _instant(value: Any) -> dt.datetime:
    """A timestamp as read back by plain SQL: text on SQLite, aware on PostgreSQL."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


@pytest.fixture(params=BACKENDS)
def before_late_at(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """A database migrated only to 0014, before callbacks kept when they are missed: what an
    installation upgrading to this version has."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
        yield make_settings(url, tmp_path)
        return
    name = f"resume_test_late_{os.getpid()}_{secrets.token_hex(3)}"
    run(_pg_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield make_settings(f"{PG_HOST}/{name}", tmp_path)
    finally:
        run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_the_migration_works_out_when_each_stored_callback_is_missed(before_late_at: Any) -> None:
    settings = before_late_at
    migrate(settings, "0014")
    store = Store(settings)
    due = dt.datetime(2026, 11, 3, 15, 0, 0, 250000, tzinfo=dt.UTC)
    dealer = other_dealer(settings)
    store.execute(
        "INSERT INTO leads (id, dealer_id, email, status, captured_at, last_activity_at, "
        "attempts) VALUES (7, :d, 'o@example.com', 'new', :at, :at, 0)",
        d=dealer,
        at=due,
    )
    lead = 7
    for i, done in ((1, due + dt.timedelta(minutes=14)), (2, None)):
        store.execute(
            "INSERT INTO callbacks (id, lead_id, dealer_id, due_at, created_at, done_at) "
            "VALUES (:i, :lead, :dealer, :due, :due, :done)",
            i=i,
            lead=lead,
            dealer=dealer,
            due=due + dt.timedelta(days=i),
            done=done and done + dt.timedelta(days=i),
        )
    migrate(settings)
    rows = store.rows("SELECT id, due_at, late_at FROM callbacks ORDER BY id")
    assert [_instant(r["late_at"]) for r in rows] == [
        due + dt.timedelta(days=1) + GRACE,
        due + dt.timedelta(days=2) + GRACE,
    ]

    async def columns() -> list[str]:
        db = Database(settings)
        try:
            async with db.read() as conn:
                if db.is_sqlite:
                    found = await conn.execute(text("PRAGMA index_info('ix_callbacks_dealer_due')"))
                    return [r[2] for r in found]
                found = await conn.execute(
                    text("SELECT indexdef FROM pg_indexes WHERE indexname = :n"),
                    {"n": "ix_callbacks_dealer_due"},
                )
                return [found.scalar_one()]
        finally:
            await db.dispose()

    assert "late_at" in " ".join(run(columns()))
