"""The lead list's filters for the team page's figures (issue #10): one rep's leads, a number
of attempts, a stage reached, answered within so many business minutes, not answered yet;
the response time kept on the lead when its first attempt is logged, and worked out by
`resume migrate` for leads answered before it was kept. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
from conftest import Staff, Store, run
from test_dashboard_security import a_lead

from resume.dashboard.funnel import count_stored_drafts

MANAGER = "morgan.mgr@demo-motors.example"
CHICAGO = ZoneInfo("America/Chicago")


def listed(staff: Staff, query: dict[str, str]) -> set[int]:
    page = staff.get("/dashboard/leads?" + urlencode(query))
    assert page.status_code == 200, page.text[:800]
    return {int(n) for n in re.findall(r'<a href="/dashboard/leads/(\d+)">', page.text)}


class Two:
    """Lead A, called and reached by the manager, who owns it; lead B, never tried."""

    def __init__(self, client: Any, settings: Any, store: Store) -> None:
        self.a = a_lead(client, store, email="a@example.com")
        self.b = a_lead(client, store, email="b@example.com")
        self.manager = Staff.active(client, settings, MANAGER, "manager")
        self.manager.get(f"/dashboard/leads/{self.a}")
        self.manager.post(
            f"/dashboard/leads/{self.a}/attempt", channel="call", outcome="reached", note=""
        )
        self.manager_id = store.one("SELECT id FROM staff WHERE email = :e", e=MANAGER)["id"]
        store.execute("UPDATE leads SET owner_id = :m WHERE id = :a", m=self.manager_id, a=self.a)


@pytest.fixture
def two(client: Any, settings: Any, store: Store) -> Two:
    return Two(client, settings, store)


def test_the_first_attempt_keeps_its_response_time(two: Two, store: Store) -> None:
    row = store.one(
        "SELECT attempts, response_minutes, contacted_at, human_at, status_at, last_attempt_at"
        " FROM leads WHERE id = :a",
        a=two.a,
    )
    # Captured a moment before the call: no business minute, or one, has passed.
    assert row["attempts"] == 1 and row["response_minutes"] in (0, 1)
    assert row["contacted_at"] is not None
    # The call, and the status it moved the lead to, are kept on the lead for the team page.
    assert row["human_at"] == row["status_at"] == row["last_attempt_at"]
    untried = store.one("SELECT response_minutes FROM leads WHERE id = :b", b=two.b)
    assert untried["response_minutes"] is None


def test_each_team_filter_lists_its_leads(two: Two) -> None:
    assert listed(two.manager, {"attempts": "0"}) == {two.b}
    assert listed(two.manager, {"attempts": "1"}) == {two.a}
    assert listed(two.manager, {"attempts": "5"}) == set()
    assert listed(two.manager, {"attempted": "0"}) == {two.b}
    assert listed(two.manager, {"reached": "contacted"}) == {two.a}
    assert listed(two.manager, {"reached": "sold"}) == set()
    assert listed(two.manager, {"response": "5"}) == {two.a}
    assert listed(two.manager, {"rep": str(two.manager_id)}) == {two.a}
    page = two.manager.get(f"/dashboard/leads?rep={two.manager_id}&attempts=1").text
    assert "Owner: " in page and "1 attempts" in page


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({"attempts": "6"}, 400),
        ({"attempts": "-1"}, 400),
        ({"attempts": "x"}, 400),
        ({"attempts": "１"}, 400),
        ({"reached": "lost"}, 400),
        ({"response": "0"}, 400),
        ({"response": "abc"}, 400),
        ({"response": "9" * 20}, 400),
        ({"attempted": "1"}, 400),
        ({"rep": "999999"}, 404),
        ({"rep": "abc"}, 404),
        ({"rep": "1" * 40}, 404),
    ],
)
def test_a_bad_team_filter_is_refused_and_changes_nothing(
    two: Two, store: Store, query: dict[str, str], code: int
) -> None:
    before = store.snapshot()
    page = two.manager.get("/dashboard/leads?" + urlencode(query))
    assert page.status_code == code, page.text[:500]
    assert "<h1" in page.text
    assert store.snapshot() == before


def test_migrate_works_out_the_response_times_answered_before_they_were_kept(
    two: Two, settings: Any, store: Store
) -> None:
    # Captured at 7:50 pm on a Saturday, called at 9:10 am on Monday, Chicago time: ten
    # minutes before Saturday's 8 pm close, Sunday's six hours (11 to 5), ten on Monday.
    captured = dt.datetime(2026, 11, 28, 19, 50, tzinfo=CHICAGO)
    called = dt.datetime(2026, 11, 30, 9, 10, tzinfo=CHICAGO)
    kept = store.one("SELECT human_at, status_at FROM leads WHERE id = :a", a=two.a)
    store.execute(
        "UPDATE leads SET captured_at = :c, first_attempt_at = :f, response_minutes = NULL,"
        " human_at = NULL, status_at = NULL WHERE id = :a",
        c=captured,
        f=called,
        a=two.a,
    )
    store.execute("DELETE FROM meta WHERE name = 'funnel_counted'")

    # `resume migrate`'s last step: the funnel counted again, then the team page's leads.
    def migrate() -> tuple[int | None, int | None]:
        return run(count_stored_drafts(settings))  # type: ignore[no-any-return]

    assert migrate() == (2, 2)
    row = store.one("SELECT response_minutes FROM leads WHERE id = :a", a=two.a)
    assert row["response_minutes"] == 10 + 6 * 60 + 10
    # And the times the timeline shows, kept on the row again.
    assert store.one("SELECT human_at, status_at FROM leads WHERE id = :a", a=two.a) == kept
    # Once: a second migrate counts nothing again.
    assert migrate() == (None, None)
