"""The team's follow-through page (issue #10, item 3), as a manager reads it: a small history
built by hand (leads captured at known business-hours times, one after hours; attempts; an
automatic follow-up email that is not a response; callbacks kept and missed; statuses) and
every figure worked out here, independently, from that history; the account's scope (another
dealership's leads are never counted, its id is a 404); and addresses typed by hand or by an
attacker get a clear 400 page, never a 500.
"""

from __future__ import annotations

import datetime as dt
import html
import math
import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

import pytest
from conftest import Staff, Store, run
from sqlalchemy import case, func, insert, update
from test_dashboard_security import elsewhere, other_dealer

from resume.dashboard.team import Team
from resume.db import Database
from resume.dealers import OPEN_STATUSES, DealerConfig
from resume.dealers.checks import check_config
from resume.errors import ConfigError
from resume.leads import STATUSES
from resume.queries import dealers as dealers_q
from resume.queries import team_counts
from resume.tables import callbacks, lead_activity, leads, outbox, staff, staff_dealers

MANAGER = "morgan.mgr@demo-motors.example"
GRACE = dt.timedelta(minutes=15)  # the page says: done within 15 minutes of its time
CHICAGO = ZoneInfo("America/Chicago")  # Demo Motors' clock; open Mon-Sat 9-20, Sun 11-17


@pytest.fixture
def manager(client: Any, settings: Any) -> Staff:
    """Demo Motors' manager: the role that sees the numbers."""
    return Staff.active(client, settings, MANAGER, "manager")


def tuesday() -> dt.date:
    """A Tuesday 9 to 15 days ago on Demo Motors' clock: inside the default 30 days, with the
    Monday before it, and long enough ago for every limit in the history to have passed."""
    day = dt.datetime.now(CHICAGO).date() - dt.timedelta(days=9)
    while day.weekday() != 1:
        day -= dt.timedelta(days=1)
    return day


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=CHICAGO).astimezone(dt.UTC)


def _kept_on_the_lead(row: dict[str, Any]) -> tuple[Any, ...]:
    """What the product keeps on a lead's row as a timeline entry is written: the newest
    entry by a person, and when it entered its status."""
    wanted = {}
    if row.get("staff_id") is not None:
        wanted["human_at"] = func.coalesce(
            case((leads.c.human_at > row["at"], leads.c.human_at), else_=row["at"]), row["at"]
        )
    if row["kind"] == "status":
        wanted["status_at"] = case(
            (leads.c.status_at > row["at"], leads.c.status_at),
            (leads.c.captured_at > row["at"], leads.c.captured_at),
            else_=row["at"],
        )
    query = update(leads).where(leads.c.id == row["lead_id"])
    return (query.values(**wanted) if wanted else query.values(id=leads.c.id),)


def insert_rows(settings: Any, table: Any, rows: list[dict[str, Any]]) -> list[int]:
    async def add() -> list[int]:
        db = Database(settings)
        try:
            ids = []
            async with db.write() as conn:
                for row in rows:
                    result = await conn.execute(insert(table).values(**row))
                    key = result.inserted_primary_key
                    ids.append(int(key[0]) if key else 0)
                    if table is lead_activity:
                        await conn.execute(*_kept_on_the_lead(row))
            return ids
        finally:
            await db.dispose()

    return run(add())  # type: ignore[no-any-return]


def rep(settings: Any, name: str, dealer_id: int = 1) -> int:
    """A rep on a dealership's team, straight into the tables (they never sign in here)."""
    (staff_id,) = insert_rows(
        settings,
        staff,
        [
            {
                "email": f"{name.split()[0].lower()}@demo-motors.example",
                "name": name,
                "role": "sales",
                "status": "active",
                "created_at": dt.datetime.now(dt.UTC),
            }
        ],
    )
    insert_rows(settings, staff_dealers, [{"staff_id": staff_id, "dealer_id": dealer_id}])
    return staff_id


# Business minutes from capture to the first attempt, by hand (Lee Four: captured after
# Monday's close, called 20 minutes into Tuesday).
RESPONSE = {
    "Lee One": 3,
    "Lee Two": 12,
    "Lee Three": 45,
    "Lee Four": 20,
    "Lee Six": 150,
    "Lee Nine": 5,
}


class History:
    """Demo Motors' leads, reps and callbacks, as the figures below expect them."""

    def __init__(self, settings: Any) -> None:
        now = dt.datetime.now(dt.UTC)
        day = self.day = tuesday()
        monday = day - dt.timedelta(days=1)
        self.avery, self.blake = rep(settings, "Avery Stone"), rep(settings, "Blake Ortiz")
        a, b = self.avery, self.blake
        # name: (owner, captured, first attempt, attempts, status, stages reached)
        plan = {
            "Lee One": (a, at(day, 10), at(day, 10, 3), 1, "contacted", "c"),
            "Lee Two": (a, at(day, 10), at(day, 10, 12), 2, "shown", "cas"),
            "Lee Three": (b, at(day, 11), at(day, 11, 45), 5, "appointment_set", "ca"),
            # After hours: Monday 9:30 pm, called at 9:20 on Tuesday's opening: 20 business
            # minutes, not 11 hours 50.
            "Lee Four": (b, at(monday, 21, 30), at(day, 9, 20), 3, "sold", "cass"),
            # Never called: an automatic follow-up went out, which is not a response.
            "Lee Five": (a, at(day, 12), None, 0, "new", ""),
            "Lee Six": (None, at(day, 14), at(day, 16, 30), 4, "attempting", ""),
            "Lee Nine": (a, at(day, 13), at(day, 13, 5), 1, "contacted", "c"),
            # Captured 40 days ago: outside the default range.
            "Lee Old": (a, now - dt.timedelta(days=40), None, 0, "new", ""),
        }
        rows = []
        for name, (owner, captured, first, attempts, status, stages) in plan.items():
            reached = dict.fromkeys(("contacted", "appointment_set", "shown", "sold"))
            for stage in list(reached)[: len(stages)]:  # one letter a stage, in order
                reached[stage] = first
            rows.append(
                {
                    "dealer_id": 1,
                    "email": f"{name.split()[1].lower()}@example.com",
                    "name": name,
                    "status": status,
                    "owner_id": owner,
                    "captured_at": captured,
                    "first_attempt_at": first,
                    "last_attempt_at": first,
                    "attempts": attempts,
                    "last_activity_at": captured,
                    "touches_sent": 1 if name == "Lee Five" else 0,
                    "widget": "payment",
                    "widgets": "payment",
                    **{f"{stage}_at": when for stage, when in reached.items()},
                    # As the product keeps it when the first attempt is logged.
                    "response_minutes": RESPONSE.get(name),
                }
            )
        self.ids = dict(zip(plan, insert_rows(settings, leads, rows), strict=True))
        # Each attempt and status change on the timeline, by the lead's owner (or a manager).
        activity = []
        for name, (owner, _, first, _, status, _) in plan.items():
            if first is None:
                continue
            for kind in ("attempt", "status"):
                activity.append(
                    {
                        "lead_id": self.ids[name],
                        "dealer_id": 1,
                        "staff_id": owner or a,
                        "kind": kind,
                        "at": first,
                        "detail": {"to": status} if kind == "status" else {},
                    }
                )
        # Lee Three's appointment was set three hours ago, Lee Nine's contact two: recent
        # human action, and not stuck. A system entry (no staff) is not a human action.
        for name, ago, kind, who in (
            ("Lee Three", 3, "status", b),
            ("Lee Nine", 2, "status", a),
            ("Lee Six", 1, "followup_stopped", None),
        ):
            activity.append(
                {
                    "lead_id": self.ids[name],
                    "dealer_id": 1,
                    "staff_id": who,
                    "kind": kind,
                    "at": now - dt.timedelta(hours=ago),
                    "detail": {},
                }
            )
        insert_rows(settings, lead_activity, activity)
        # The automatic follow-up Lee Five was sent half an hour after capture.
        insert_rows(
            settings,
            outbox,
            [
                {
                    "dealer_id": 1,
                    "kind": "followup",
                    "context": {"touch": 1},
                    "to_addr": "five@example.com",
                    "message_id": "<team-test-followup@example.com>",
                    "status": "sent",
                    "attempts": 1,
                    "due_at": at(day, 12, 30),
                    "sent_at": at(day, 12, 30),
                    "created_at": at(day, 12),
                }
            ],
        )
        # Callbacks: (who promised, due, done).
        promised = [
            (a, at(day, 15), at(day, 15, 10)),  # kept: 10 minutes after
            (a, at(day, 16), at(day, 16, 30)),  # missed: done 30 minutes late
            (a, at(day, 17), None),  # missed: never done
            (b, at(day, 10), at(day, 9, 50)),  # kept: early
            (b, now - dt.timedelta(minutes=5), None),  # still within its grace: not counted
            (b, now + dt.timedelta(days=1), None),  # not due yet: not counted
        ]
        insert_rows(
            settings,
            callbacks,
            [
                {
                    "lead_id": self.ids["Lee One"],
                    "dealer_id": 1,
                    "staff_id": who,
                    "due_at": due,
                    "late_at": due + GRACE,
                    "done_at": done,
                    "created_at": due - dt.timedelta(hours=1),
                }
                for who, due, done in promised
            ],
        )
        count_stored(settings)


def hilltop_history(settings: Any) -> int:
    """Hilltop Ford, another dealership, with a lead answered in a minute and its callback."""
    dealer = other_dealer(settings)
    day = tuesday()
    (lead,) = insert_rows(
        settings,
        leads,
        [
            {
                "dealer_id": dealer,
                "email": "hill@example.com",
                "name": "Hill Side",
                "status": "new",
                "captured_at": at(day, 10),
                "first_attempt_at": at(day, 10, 1),
                "attempts": 9,
                "last_activity_at": at(day, 10),
                "contacted_at": at(day, 10, 1),
                "sold_at": at(day, 10, 1),
            }
        ],
    )
    insert_rows(
        settings,
        callbacks,
        [
            {
                "lead_id": lead,
                "dealer_id": dealer,
                "due_at": at(day, 15),
                "late_at": at(day, 15) + GRACE,
                "created_at": at(day, 14),
            }
        ],
    )
    count_stored(settings)
    return dealer


def count_stored(settings: Any) -> None:
    """Count the leads written straight into the tables as `resume migrate` counts those
    stored before the team page kept its rows: their response times kept, their days given."""

    async def count() -> None:
        db = Database(settings)
        try:
            async with db.write() as conn:
                await conn.run_sync(team_counts.uncount)
            await Team(db).count_stored()
        finally:
            await db.dispose()

    run(count())


def nearest_rank(values: list[int], share: float) -> int:
    ranked = sorted(values)
    return ranked[math.ceil(share * len(ranked)) - 1]


def text_of(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def row(page: str, caption: str, label: str) -> list[str]:
    """The cells of a figures table's row, as text: the table by its caption, the row by the
    name in its first cell."""
    table = re.search(rf"<caption[^>]*>{re.escape(caption)}</caption>(.*?)</table>", page, re.S)
    assert table, f"no table {caption!r}"
    for tr in re.findall(r"<tr>(.*?)</tr>", table.group(1), re.S):
        cells = [text_of(c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", tr, re.S)]
        if cells and cells[0].startswith(label):
            return cells[1:]
    raise AssertionError(f"no row {label!r} in {caption!r}")


def share(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%"


def test_the_figures_are_the_history_worked_out_by_hand(
    manager: Staff, settings: Any, store: Store
) -> None:
    history = History(settings)
    hilltop_history(settings)
    page = manager.get("/dashboard/team")
    assert page.status_code == 200, page.text[:800]
    text = page.text
    # Business minutes from capture to the first human attempt, by hand: Lee Four was
    # captured at 9:30 pm on Monday, after closing, and called 20 minutes into Tuesday.
    answered = list(RESPONSE.values())
    assert nearest_rank(answered, 0.5) == 12 and nearest_rank(answered, 0.9) == 150
    # Seven leads in the range (the 40-day-old one and Hilltop's are not), six answered;
    # Lee Five's automatic email is no answer, as the row itself says.
    five = store.one(
        "SELECT first_attempt_at, touches_sent FROM leads WHERE id = :l", l=history.ids["Lee Five"]
    )
    assert five == {"first_attempt_at": None, "touches_sent": 1}
    assert row(text, "Response time by store", "Demo Motors") == [
        "7",
        "6",
        "1",
        "12 min",
        "2 h 30 min",
        f"2 {share(2, 6)}",  # 3 and 5 minutes (5 is within 5)
        f"3 {share(3, 6)}",
        f"5 {share(5, 6)}",  # all but Lee Six's 150
    ]
    assert "Hilltop" not in text
    # Per rep, the lead's owner: Avery has One (3), Two (12), Nine (5) answered and Five not.
    assert row(text, "Response time by rep (lead owner)", "Avery Stone") == [
        "4",
        "3",
        "1",
        f"{nearest_rank([3, 12, 5], 0.5)} min",
        f"{nearest_rank([3, 12, 5], 0.9)} min",
        f"2 {share(2, 3)}",
        f"3 {share(3, 3)}",
        f"3 {share(3, 3)}",
    ]
    assert row(text, "Response time by rep (lead owner)", "Blake Ortiz")[:5] == [
        "2",
        "2",
        "0",
        "20 min",
        "45 min",
    ]
    assert row(text, "Response time by rep (lead owner)", "Unassigned")[:5] == [
        "1",
        "1",
        "0",
        "2 h 30 min",
        "2 h 30 min",
    ]
    # Attempts 1, 2, 5, 3, 0, 4, 1: one lead at each count but two with one; one reached 5.
    assert row(text, "Attempts per lead by store", "Demo Motors") == [
        "1",
        "2",
        "1",
        "1",
        "1",
        "1",
        share(1, 7),
    ]
    assert row(text, "Attempts per lead by rep", "Blake Ortiz") == [
        "0",
        "0",
        "0",
        "1",
        "0",
        "1",
        share(1, 2),
    ]
    # Stages ever reached: contact One, Two, Three, Four, Nine; appointment Two, Three,
    # Four; shown Two and Four (of the three appointments); sold Four. Callbacks due and
    # decided: Avery kept one of three, Blake one of one (the early one); Blake's one still
    # in its grace and the one due tomorrow are not counted.
    assert row(text, "Outcomes by store", "Demo Motors") == [
        f"5 {share(5, 7)}",
        f"3 {share(3, 7)}",
        f"2 {share(2, 3)}",
        f"1 {share(1, 7)}",
        f"2 of 4 {share(2, 4)}",
    ]
    assert row(text, "Outcomes by rep", "Avery Stone")[-1] == f"1 of 3 {share(1, 3)}"
    assert row(text, "Outcomes by rep", "Blake Ortiz")[-1] == f"1 of 1 {share(1, 1)}"
    assert row(text, "Outcomes by rep", "Unassigned")[-1] == "–"

    # No human action for 24 hours: One, Two and Six (their last, the first attempt, days
    # ago; Six's system entry an hour ago is no human action) and Five (nobody, ever),
    # longest waiting first. Three and Nine had a person on them hours ago; Four is sold.
    neglected = re.search(r'id="neglected".*?</table>', text, re.S)
    assert neglected
    names = re.findall(r'<a href="/dashboard/leads/(\d+)">([^<]+)</a>', neglected.group(0))
    assert [n for _, n in names] == ["Lee One", "Lee Two", "Lee Five", "Lee Six"]
    assert [int(i) for i, _ in names] == [history.ids[n] for _, n in names]
    assert "<strong>4</strong> leads" in neglected.group(0)
    assert "none since capture" in text_of(neglected.group(0).split("Lee Five")[1])

    # Stuck, with the default limits (new 24 h, attempting 72 h, contacted 168 h, shown 72 h):
    # Five new since Tuesday noon, Six attempting since 4:30 pm, Two shown since 10:12 all
    # went over in Tuesday's week; One, contacted since 10:03, a week later, the next week.
    stuck = re.search(r'id="stuck".*?</div>\s*</div>', text, re.S)
    assert stuck
    monday = history.day - dt.timedelta(days=1)
    weeks = re.findall(r'<th scope="row">(\w{3} \d+ \w{3} \d{4})</th>', stuck.group(0))
    nextweek = monday + dt.timedelta(days=7)
    assert weeks == [nextweek.strftime("%a %-d %b %Y"), monday.strftime("%a %-d %b %Y")]
    listed = re.findall(r'<a href="/dashboard/leads/\d+">([^<]+)</a>', stuck.group(0))
    assert listed == ["Lee Five", "Lee Two", "Lee Six", "Lee One"]  # longest over first
    assert "<strong>4</strong> leads stuck now" in stuck.group(0)


def test_response_times_not_kept_yet_are_worked_out_when_the_leads_are_counted(
    manager: Staff, settings: Any, store: Store
) -> None:
    # Leads answered before response times were kept on their rows: `resume migrate` works
    # their business minutes out from capture and first attempt when it counts the stored
    # leads into the team page's rows, and the page shows the same figures.
    History(settings)
    kept = manager.get("/dashboard/team").text
    store.execute(
        "UPDATE leads SET response_minutes = NULL WHERE email IN (:a, :b, :c)",
        a="one@example.com",
        b="four@example.com",
        c="six@example.com",
    )
    unkept = "SELECT id FROM leads WHERE response_minutes IS NULL AND first_attempt_at IS NOT NULL"
    assert len(store.rows(unkept)) == 3
    count_stored(settings)
    assert store.rows(unkept) == []
    minutes = {
        r["name"]: r["response_minutes"]
        for r in store.rows("SELECT name, response_minutes FROM leads WHERE dealer_id = 1")
    }
    # Worked out by the product's clock, as by hand (Lee Four: after Monday's close).
    assert {n: minutes[n] for n in ("Lee One", "Lee Four", "Lee Six")} == {
        n: RESPONSE[n] for n in ("Lee One", "Lee Four", "Lee Six")
    }
    page = manager.get("/dashboard/team").text
    for caption, label in (
        ("Response time by store", "Demo Motors"),
        ("Response time by rep (lead owner)", "Avery Stone"),
        ("Response time by rep (lead owner)", "Blake Ortiz"),
        ("Response time by rep (lead owner)", "Unassigned"),
        ("Attempts per lead by store", "Demo Motors"),
        ("Outcomes by store", "Demo Motors"),
    ):
        assert row(page, caption, label) == row(kept, caption, label), (caption, label)
    assert row(page, "Response time by store", "Demo Motors")[3:5] == ["12 min", "2 h 30 min"]


def test_the_weekly_view_counts_each_status_in_the_week_it_went_over(
    manager: Staff, settings: Any
) -> None:
    history = History(settings)
    page = manager.get("/dashboard/team").text
    monday = history.day - dt.timedelta(days=1)
    limited = [s for s in OPEN_STATUSES if s in DealerConfig().status_limits]
    caption = "Leads stuck now, by the week they went over the limit"
    header = re.search(rf"{caption}</caption>\s*<thead>(.*?)</thead>", page, re.S)
    assert header
    assert re.findall(r'<th scope="col">([^<]+)</th>', header.group(1)) == [
        "Week of",
        *(STATUSES[s] for s in limited),
        "All",
    ]
    this_week = row(page, caption, monday.strftime("%a %-d %b %Y"))
    assert this_week == [
        *("1" if s in {"new", "attempting", "shown"} else "0" for s in limited),
        "3",
    ]
    next_week = row(page, caption, (monday + dt.timedelta(days=7)).strftime("%a %-d %b %Y"))
    assert next_week == [*("1" if s == "contacted" else "0" for s in limited), "1"]


def test_a_dealerships_own_limits_decide_what_is_stuck(
    manager: Staff, settings: Any, store: Store
) -> None:
    History(settings)
    # A week and a half for a new lead, no limit at all on Attempting contact.
    import json

    config = json.dumps({"status_limits": {"new": 24 * 30, "shown": 72, "contacted": 168}})
    store.execute("UPDATE dealers SET config = :c WHERE id = 1", c=config)
    page = manager.get("/dashboard/team").text
    stuck = re.search(r'id="stuck".*?</div>\s*</div>', page, re.S)
    assert stuck
    listed = re.findall(r'<a href="/dashboard/leads/\d+">([^<]+)</a>', stuck.group(0))
    assert listed == ["Lee Two", "Lee One"]
    assert "Attempting contact" not in re.search(r"<thead>.*?</thead>", stuck.group(0), re.S).group(
        0
    )  # type: ignore[union-attr]


def test_status_limits_are_checked_like_every_setting() -> None:
    assert check_config(DealerConfig()).status_limits["new"] == 24
    assert set(DealerConfig().status_limits) <= set(OPEN_STATUSES)
    assert set(OPEN_STATUSES) == set(STATUSES) - {"sold", "lost"}
    for limits, words in (
        ({"sold": 24}, "'sold' is not one"),
        ({"new": 0}, "between 1 hour"),
        ({"new": 24 * 366}, "between 1 hour"),
    ):
        with pytest.raises(ConfigError, match=words):
            check_config(DealerConfig(status_limits=limits))


def test_a_figure_links_to_its_leads_in_the_list(manager: Staff, settings: Any) -> None:
    history = History(settings)
    page = manager.get("/dashboard/team").text
    start = (dt.datetime.now(CHICAGO).date() - dt.timedelta(days=29)).isoformat()
    until = (dt.datetime.now(CHICAGO).date() + dt.timedelta(days=1)).isoformat()
    link = f"/dashboard/leads?dealer=demo-motors&amp;since={start}&amp;until={until}"
    assert f'<a href="{link}">7</a>' in page
    listed = manager.get(html.unescape(link))
    assert listed.status_code == 200
    assert "<strong>7</strong> leads" in listed.text
    found = set(re.findall(r'<a href="/dashboard/leads/(\d+)">', listed.text))
    assert found == {str(i) for n, i in history.ids.items() if n != "Lee Old"}
    # The unassigned leads: the list's own "Unassigned" owner filter.
    unassigned = f"{link}&amp;owner=unassigned"
    assert f'<a href="{unassigned}">1</a>' in page
    only = manager.get(html.unescape(unassigned)).text
    assert set(re.findall(r'<a href="/dashboard/leads/(\d+)">', only)) == {
        str(history.ids["Lee Six"])
    }


def test_only_the_accounts_dealerships_are_counted_and_another_is_not_found(
    manager: Staff, client: Any, settings: Any
) -> None:
    History(settings)
    hilltop = hilltop_history(settings)
    assert manager.get(f"/dashboard/team?store={hilltop}").status_code == 404
    assert manager.get("/dashboard/team?store=1&store=" + str(hilltop)).status_code == 404
    assert manager.get("/dashboard/team?store=424242").status_code == 404
    ours = manager.get("/dashboard/team?store=1")
    assert ours.status_code == 200 and "Hilltop" not in ours.text
    # Hilltop's own manager sees Hilltop's one lead and nothing of Demo Motors'.
    with elsewhere(settings) as browser:
        theirs = Staff.active(
            browser, settings, "hal@hilltop.example", "manager", dealers=(hilltop,)
        )
        page = theirs.get("/dashboard/team").text
        assert row(page, "Response time by store", "Hilltop Ford")[:4] == ["1", "1", "0", "1 min"]
        assert "Demo Motors" not in page and "Avery" not in page
        assert theirs.get("/dashboard/team?store=1").status_code == 404


def test_a_group_sees_its_stores_side_by_side_and_filters_them(client: Any, settings: Any) -> None:
    History(settings)
    hilltop = hilltop_history(settings)
    group = Staff.active(client, settings, "gale@group.example", "manager", dealers=(1, hilltop))
    page = group.get("/dashboard/team").text
    caption = "Response time by store"
    assert row(page, caption, "Demo Motors")[:3] == ["7", "6", "1"]
    assert row(page, caption, "Hilltop Ford")[:4] == ["1", "1", "0", "1 min"]
    assert row(page, caption, "All 2 stores")[:3] == ["8", "7", "1"]
    assert row(page, "Outcomes by store", "All 2 stores")[3] == f"2 {share(2, 8)}"
    # Every store the account covers: the list's unfiltered view is the total's drill-down.
    assert re.search(r'<a href="/dashboard/leads\?since=[0-9-]+&amp;until=[0-9-]+">8</a>', page)
    # One store ticked: only it, ticked in the form.
    one = group.get(f"/dashboard/team?store={hilltop}").text
    assert "All 2 stores" not in one and "Avery" not in one
    assert row(one, caption, "Hilltop Ford")[0] == "1"
    assert f'name="store" value="{hilltop}" checked' in one


def test_two_stores_of_three_are_totalled_and_their_total_links_to_both(
    client: Any, settings: Any
) -> None:
    History(settings)
    hilltop = hilltop_history(settings)

    async def add() -> int:
        db = Database(settings)
        try:
            async with db.write() as conn:
                valley = await dealers_q.add(
                    conn,
                    slug="valley-kia",
                    name="Valley Kia",
                    lead_email="leads@valley.example",
                    address="3 River Road",
                    phone="",
                    timezone="America/Chicago",
                    origins=("https://www.valley.example",),
                    config=DealerConfig(),
                )
            return valley.id
        finally:
            await db.dispose()

    valley = run(add())
    group = Staff.active(
        client, settings, "gale@group.example", "manager", dealers=(1, hilltop, valley)
    )
    page = group.get("/dashboard/team").text
    assert row(page, "Response time by store", "All 3 stores")[0] == "8"
    assert row(page, "Response time by store", "Valley Kia")[:3] == ["0", "0", "0"]
    two = group.get(f"/dashboard/team?store=1&store={hilltop}").text
    assert "Valley Kia</th>" not in two
    assert row(two, "Response time by store", "All 2 stores")[0] == "8"
    link = re.search(
        r'<a href="(/dashboard/leads\?dealers=demo-motors%2Chilltop-ford&amp;since=[0-9-]+'
        r'&amp;until=[0-9-]+)">8</a>',
        two,
    )
    assert link, "no drill-down from the two stores' total"
    listed = group.get(html.unescape(link.group(1)))
    assert listed.status_code == 200
    assert "<strong>8</strong> leads" in listed.text


def test_the_range_is_the_days_asked_for_on_the_stores_clock(manager: Staff, settings: Any) -> None:
    history = History(settings)
    day, monday = history.day, history.day - dt.timedelta(days=1)
    # Monday alone: Lee Four, captured at 9:30 pm Chicago time (3:30 am UTC on Tuesday).
    page = manager.get(f"/dashboard/team?from={monday}&to={monday}").text
    assert row(page, "Response time by store", "Demo Motors")[:4] == ["1", "1", "0", "20 min"]
    assert f"Leads captured {monday.strftime('%-d %b %Y')} to" in page
    page = manager.get(f"/dashboard/team?from={day}&to={day}").text
    assert row(page, "Response time by store", "Demo Motors")[:3] == ["6", "5", "1"]
    # Only "from": 30 days from it, or to today.
    page = manager.get(f"/dashboard/team?from={monday}").text
    assert row(page, "Response time by store", "Demo Motors")[0] == "7"


@pytest.mark.parametrize(
    "query",
    [
        "from=yesterday",
        "from=2026-13-01",
        "from=2026-02-30",
        "to=2026-1-1",
        "from=2026-12-01&to=2026-11-01",  # reversed
        "from=2020-01-01&to=2026-01-01",  # more than 366 days
        "from=1999-12-31&to=2000-01-01",
        "from=2999-01-01",  # after today, and no end: there is nothing to show yet
        "from=9999-12-31",
        "from=%00%ff",
        "from=" + "9" * 5000,
        "store=abc",
        "store=-1",
        "store=1e3",
        "store=" + "1" * 40,
        "&".join(f"store={i}" for i in range(200)),
    ],
)
def test_a_bad_address_is_a_clear_400_page(manager: Staff, query: str) -> None:
    page = manager.get(f"/dashboard/team?{query}")
    assert page.status_code == 400, (query, page.status_code, page.text[:300])
    assert "text/html" in page.headers["content-type"]
    assert re.search(r"date|range|store", page.text, re.I)


def test_unknown_params_are_ignored_and_the_page_still_shows(manager: Staff) -> None:
    page = manager.get("/dashboard/team?sort=%27%3B--&x=<script>&from=&to=")
    assert page.status_code == 200
    assert "<script>" not in page.text


def test_only_the_roles_that_see_numbers_get_the_page(client: Any, settings: Any) -> None:
    rep_ = Staff.active(client, settings, "riley.rep@demo-motors.example", "sales")
    assert rep_.get("/dashboard/team").status_code == 404
    assert 'href="/dashboard/team"' not in rep_.get("/dashboard/leads").text
    with elsewhere(settings) as anonymous:
        answer = anonymous.get("/dashboard/team", follow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/dashboard/login")
    admin = Staff.active(client, settings, "alex.admin@demo-motors.example", "admin")
    assert admin.get("/dashboard/team").status_code == 200


def test_an_admin_sets_the_limits_in_the_settings_and_the_page_follows(
    client: Any, settings: Any, store: Store
) -> None:
    from test_dashboard_settings import change, config

    History(settings)
    admin = Staff.active(client, settings, "ada.admin@demo-motors.example", "admin")
    page = admin.get("/dashboard/settings/demo-motors/limits")
    assert page.status_code == 200
    assert 'name="status_limits.new" value="24"' in page.text
    # Nothing is stuck in New for less than 20 days now; a 0 is refused with its reason.
    refused = change(admin, "limits", status_limits__new="0")
    assert refused.status_code == 400 and "between 1 hour" in refused.text
    assert config(store).get("status_limits", {}).get("new") != 0
    done = change(admin, "limits", status_limits__new=str(24 * 20))
    assert done.status_code == 200, done.text[:500]
    assert config(store)["status_limits"]["new"] == 480
    stuck = re.search(r'id="stuck".*?</div>\s*</div>', admin.get("/dashboard/team").text, re.S)
    assert stuck
    listed = re.findall(r'<a href="/dashboard/leads/\d+">([^<]+)</a>', stuck.group(0))
    assert listed == ["Lee Two", "Lee Six", "Lee One"]
    assert "New 20 d" in text_of(stuck.group(0))


def test_every_count_on_the_page_links_to_a_list_of_exactly_that_many_leads(
    manager: Staff, settings: Any
) -> None:
    History(settings)
    page = manager.get("/dashboard/team").text
    links = re.findall(r'<a href="(/dashboard/leads\?[^"]+)">([0-9,]+)</a>', page)
    wanted = {"rep", "attempted", "response", "attempts", "reached", "owner"}
    kinds = {
        name
        for href, _ in links
        for name, _ in parse_qsl(urlsplit(html.unescape(href)).query)
        if name in wanted
    }
    # Each drill-down the page offers is there: a rep's, no attempt yet, answered within,
    # each number of attempts, each stage, the unassigned queue.
    assert kinds == wanted, kinds
    for href, n in links:
        listed = manager.get(html.unescape(href))
        assert listed.status_code == 200, href
        count = int(n.replace(",", ""))
        assert re.search(rf"<strong>{count}</strong> leads?\b", listed.text), (href, n)
