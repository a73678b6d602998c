"""The team page's figures kept as they happen (issue #10, item 5: resume.queries.team_counts):
every write that changes what a lead counts for moves its row in the same transaction, so
the rows kept through the product's own paths (a lead captured by the widget, attempts,
statuses, an owner changed, a status set from the command line, a purge) are the rows
counted again from the leads, on SQLite and PostgreSQL; and a change refused half-way moves
nothing.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from conftest import Shopper, Staff, Store, resume_cli, run, saved_for_later

from resume.db import Database
from resume.queries import team_counts

COUNT_COLUMNS = ", ".join(team_counts.COUNTS)
CHICAGO = ZoneInfo("America/Chicago")  # Demo Motors' clock


def kept(store: Store) -> list[dict[str, Any]]:
    """The rows as they stand, their response times in order (a row keeps them in none)."""
    rows = store.rows(
        f"SELECT dealer_id, day, owner, {COUNT_COLUMNS}, minutes FROM team_counts "
        "ORDER BY dealer_id, day, owner"
    )
    for row in rows:
        row["minutes"] = sorted(int(m) for m in row["minutes"].split(",") if m)
    # A row whose leads all moved away holds zeros: the same as no row.
    return [r for r in rows if r["n"] or r["minutes"]]


def counted_again(settings: Any) -> None:
    async def rebuild() -> None:
        db = Database(settings)
        try:
            async with db.write() as conn:
                await conn.run_sync(team_counts.rebuild)
        finally:
            await db.dispose()

    run(rebuild())


def lead_of(store: Store, draft_id: str) -> int:
    return int(store.one("SELECT lead_id FROM drafts WHERE id = :d", d=draft_id)["lead_id"])


def test_the_rows_kept_as_leads_change_are_the_rows_counted_again(
    client: Any, settings: Any, store: Store, tmp_path: Path
) -> None:
    # A rep for round-robin to give the leads to, signed in elsewhere; the manager here.
    from litestar.testing import TestClient

    from resume.web.app import create_app

    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as other:
        Staff.active(other, settings, "pat.rep@demo-motors.example", "sales")
    manager = Staff.active(client, settings, "morgan.mgr@demo-motors.example", "manager")
    drafts = [
        saved_for_later(Shopper(client), f"{name}@example.com", consent=True)
        for name in ("ana", "ben", "cal", "dee")
    ]
    ana, ben, cal, dee = (lead_of(store, d) for d in drafts)
    # Captured: four new leads of today, each with no attempt, in its owner's row.
    today = store.one("SELECT captured_day FROM leads WHERE id = :l", l=ana)["captured_day"]
    assert today == dt.datetime.now(CHICAGO).date().isoformat()
    rows = kept(store)
    assert sum(r["n"] for r in rows) == 4 and sum(r["attempts_0"] for r in rows) == 4
    assert {r["owner"] for r in rows} != {team_counts.NOBODY}  # the rep's

    def act(lead: int, action: str, **fields: str) -> None:
        manager.get(f"/dashboard/leads/{lead}")
        done = manager.post(f"/dashboard/leads/{lead}/{action}", **fields)
        assert done.status_code == 200, (action, done.text[:300])

    act(ana, "attempt", channel="call", outcome="reached", note="")
    act(ana, "status", status="appointment_set", appointment="2031-01-02T10:00", reason="")
    act(ana, "status", status="shown", reason="")
    act(ben, "attempt", channel="call", outcome="no_answer", note="")
    act(ben, "attempt", channel="text", outcome="replied", note="")
    act(ben, "status", status="sold", reason="")
    # Cal is answered, then given to nobody: his response time moves rows with him.
    act(cal, "attempt", channel="email", outcome="no_answer", note="")
    act(cal, "assign", owner="")
    act(dee, "status", status="lost", reason="bought_elsewhere")
    # The command line's status (resume.queries.followups), as a CRM would set it.
    cli = resume_cli(settings, tmp_path, "lead", "status", drafts[3], "contacted")
    assert cli.returncode == 0, cli.stderr

    by_hand = kept(store)
    total = {name: sum(r[name] for r in by_hand) for name in team_counts.COUNTS}
    assert total == {
        "n": 4,
        "attempts_0": 1,  # Dee
        "attempts_1": 2,  # Ana, Cal
        "attempts_2": 1,  # Ben
        "attempts_3": 0,
        "attempts_4": 0,
        "attempts_5": 0,
        "contacted": 3,  # Ana and Ben reached; Dee set contacted from the command line
        "appointment": 2,  # Ana's, and Ben's sale passes through it
        "shown": 2,
        "sold": 1,
    }
    answered = [m for r in by_hand for m in r["minutes"]]
    assert len(answered) == 3  # Ana, Ben, Cal: one response time each, however many attempts
    nobody = [r for r in by_hand if r["owner"] == team_counts.NOBODY]
    assert sum(r["n"] for r in nobody) == 1 and len(nobody[0]["minutes"]) == 1  # Cal

    counted_again(settings)
    assert kept(store) == by_hand

    # A purge takes its leads out of the rows with them.
    store.execute(
        "UPDATE drafts SET updated_at = :w WHERE id = :d",
        w=dt.datetime.now(dt.UTC) - dt.timedelta(days=400),
        d=drafts[1],
    )
    purged = resume_cli(settings, tmp_path, "purge")
    assert purged.returncode == 0 and "1 leads" in purged.stdout, purged.stdout
    after_purge = kept(store)
    assert sum(r["n"] for r in after_purge) == 3
    assert sum(r["sold"] for r in after_purge) == 0  # Ben's sale went with him
    counted_again(settings)
    assert kept(store) == after_purge


def test_a_change_refused_moves_nothing(client: Any, settings: Any, store: Store) -> None:
    """A lead change that is refused (an owner from outside the team, an unknown status,
    a lead of another dealership) leaves the rows as they were."""
    manager = Staff.active(client, settings, "morgan.mgr@demo-motors.example", "manager")
    lead = lead_of(store, saved_for_later(Shopper(client), "eve@example.com", consent=True))
    before = kept(store)
    for action, fields in (
        ("assign", {"owner": "999999"}),
        ("assign", {"owner": "one"}),
        ("status", {"status": "bogus", "reason": ""}),
        ("attempt", {"channel": "pigeon", "outcome": "reached", "note": ""}),
    ):
        manager.get(f"/dashboard/leads/{lead}")
        refused = manager.post(f"/dashboard/leads/{lead}/{action}", **fields)
        assert 400 <= refused.status_code < 500, (action, refused.status_code)
    manager.get(f"/dashboard/leads/{lead}")
    refused = manager.post("/dashboard/leads/999999/attempt", channel="call", outcome="reached")
    assert refused.status_code == 404
    assert kept(store) == before
    counted_again(settings)
    assert kept(store) == before
