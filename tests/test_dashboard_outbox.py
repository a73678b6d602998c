"""The outbox page (issue #13, item 3), as a manager and an admin use it: dead messages with
their error, sent again; a queued one stopped; each audited; nothing of another dealership,
nothing for a rep, and a clear 4xx for whatever a hostile or clumsy hand sends.
"""

from __future__ import annotations

import json
import re
from html import unescape
from typing import Any

import pytest
from conftest import Shopper, Staff, Store, deliver, run, saved_for_later
from test_dashboard_security import a_lead, elsewhere, other_dealer


def queued(client: Any, store: Store, email: str = "pat@example.com") -> int:
    """A shopper saves for later: one resume link queued; its id."""
    draft_id = saved_for_later(Shopper(client), email)
    (row,) = store.rows(
        "SELECT id FROM outbox WHERE draft_id = :d AND kind = 'resume_link'", d=draft_id
    )
    return int(row["id"])


@pytest.fixture
def manager(client: Any, settings: Any) -> Staff:
    return Staff.active(client, settings, "morgan.mgr@demo-motors.example", "manager")


def test_a_dead_message_is_shown_with_its_error_and_sent_again(
    client: Any, settings: Any, store: Store, manager: Staff, mailbox: Any
) -> None:
    message = queued(client, store)
    store.execute(
        "UPDATE outbox SET status = 'dead', attempts = 8, last_error = :e WHERE id = :m",
        e="550 5.1.1 mailbox unavailable",
        m=message,
    )
    page = manager.get("/dashboard/outbox")
    assert page.status_code == 200
    text = unescape(page.text)
    assert "Resume link" in text and f"#{message}" in text
    assert "pat@example.com" in text and "550 5.1.1 mailbox unavailable" in text
    done = manager.post(f"/dashboard/outbox/{message}/retry")
    assert "The message will be sent again." in done.text
    row = store.one("SELECT status, attempts FROM outbox WHERE id = :m", m=message)
    assert row == {"status": "pending", "attempts": 0}
    (audited,) = store.rows(
        "SELECT staff_id, dealer_id, detail FROM audit WHERE action = 'outbox_retried'"
    )
    detail = audited["detail"]
    assert (json.loads(detail) if isinstance(detail, str) else detail)["was"] == "dead"
    assert deliver(settings, mailbox.url) == 1 and len(mailbox.messages) == 1
    assert store.one("SELECT status FROM outbox WHERE id = :m", m=message)["status"] == "sent"
    sent = manager.get("/dashboard/outbox?status=sent&kind=resume_link")
    assert f"#{message}" in sent.text


def test_a_queued_message_is_stopped_and_never_sent(
    client: Any, settings: Any, store: Store, manager: Staff, mailbox: Any
) -> None:
    message = queued(client, store)
    manager.get("/dashboard/outbox?status=pending")
    assert f"#{message}" in manager.page.text
    done = manager.post(f"/dashboard/outbox/{message}/stop")
    assert "it won't be sent" in unescape(done.text)
    assert store.one("SELECT status FROM outbox WHERE id = :m", m=message)["status"] == "stopped"
    assert store.rows("SELECT id FROM audit WHERE action = 'outbox_stopped'")
    assert deliver(settings, mailbox.url) == 0 and mailbox.messages == []
    # Stopped is stopped: neither stopped again nor "sent again" (only the dead are).
    before = store.snapshot()
    for action in ("stop", "retry"):
        manager.get("/dashboard/outbox?status=stopped")
        refused = manager.post(f"/dashboard/outbox/{message}/{action}", follow=False)
        assert refused.status_code == 400, action
    assert store.snapshot() == before


def test_a_message_a_worker_holds_is_not_stopped(
    client: Any, settings: Any, store: Store, manager: Staff
) -> None:
    import datetime as dt

    from sqlalchemy import update

    from resume.db import Database
    from resume.tables import outbox

    message = queued(client, store)

    async def lease() -> None:  # as a worker's claim writes it, through the table's types
        db = Database(settings)
        try:
            async with db.write() as conn:
                await conn.execute(
                    update(outbox)
                    .where(outbox.c.id == message)
                    .values(leased_until=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=2))
                )
        finally:
            await db.dispose()

    run(lease())
    manager.get("/dashboard/outbox?status=pending")
    assert manager.post(f"/dashboard/outbox/{message}/stop", follow=False).status_code == 400
    assert store.one("SELECT status FROM outbox WHERE id = :m", m=message)["status"] == "pending"


def test_another_dealerships_messages_and_a_rep_get_nothing(
    client: Any, settings: Any, store: Store, manager: Staff
) -> None:
    ours = queued(client, store)
    other_dealer(settings)
    a_lead(client, store, dealer="hilltop-ford", email="h@example.com")
    (theirs,) = store.rows(
        "SELECT o.id FROM outbox o JOIN dealers d ON d.id = o.dealer_id "
        "WHERE d.slug = 'hilltop-ford' AND o.kind = 'resume_link'"
    )
    store.execute("UPDATE outbox SET status = 'dead'")
    listed = manager.get("/dashboard/outbox")
    assert f"#{ours}" in listed.text and f"#{theirs['id']}" not in listed.text
    assert "h@example.com" not in listed.text
    before = store.snapshot()
    for action in ("retry", "stop"):
        manager.get("/dashboard/outbox")
        answer = manager.post(f"/dashboard/outbox/{theirs['id']}/{action}", follow=False)
        assert answer.status_code == 404, action
    assert store.snapshot() == before
    with elsewhere(settings) as browser:
        rep = Staff.active(browser, settings, "pat.rep@demo-motors.example", "sales")
        outbox_before = store.rows("SELECT * FROM outbox ORDER BY id")
        assert rep.get("/dashboard/outbox").status_code == 404
        assert "Outbox" not in rep.get("/dashboard/leads").text
        rep.get("/dashboard/leads")
        assert rep.post(f"/dashboard/outbox/{ours}/retry", follow=False).status_code == 404
    assert store.rows("SELECT * FROM outbox ORDER BY id") == outbox_before


@pytest.mark.parametrize(
    "query",
    ["status=bogus", "kind=pizza", "before=abc", "before=-1", "before=" + "9" * 40],
)
def test_a_damaged_address_is_a_clear_400(manager: Staff, query: str) -> None:
    answer = manager.get(f"/dashboard/outbox?{query}")
    assert answer.status_code == 400
    assert "Traceback" not in answer.text


def test_forms_without_their_token_or_with_an_unknown_button_change_nothing(
    client: Any, store: Store, manager: Staff
) -> None:
    message = queued(client, store)
    store.execute("UPDATE outbox SET status = 'dead'")
    before = store.snapshot()
    no_token = client.post(
        f"/dashboard/outbox/{message}/retry", data={"kind": ""}, follow_redirects=False
    )
    assert no_token.status_code == 403
    for path in (
        f"/dashboard/outbox/{message}/delete",
        "/dashboard/outbox/abc/retry",
        "/dashboard/outbox/999999/retry",
    ):
        manager.get("/dashboard/outbox")
        answer = manager.post(path, follow=False)
        assert answer.status_code in (400, 404), path
    assert store.snapshot() == before


def test_pages_of_fifty_follow_one_another(
    client: Any, settings: Any, store: Store, manager: Staff
) -> None:
    import datetime as dt

    from resume import outbox
    from resume.db import Database
    from resume.queries import outbox as outbox_q

    first = queued(client, store)
    draft = store.one("SELECT draft_id FROM outbox WHERE id = :m", m=first)["draft_id"]

    async def more() -> None:  # 51 more links for the draft, as the save page queues them
        db = Database(settings)
        now = dt.datetime.now(dt.UTC)
        rows = [
            outbox.resume_link(settings, f"p{n}@example.com", f"test:{n}").row(1, draft, now)
            for n in range(51)
        ]
        try:
            async with db.write() as conn:
                await conn.run_sync(outbox_q.enqueue, rows)
        finally:
            await db.dispose()

    run(more())
    ids = [r["id"] for r in store.rows("SELECT id FROM outbox ORDER BY id DESC")]
    assert len(ids) == 52
    page = manager.get("/dashboard/outbox?status=pending")
    shown = [int(n) for n in re.findall(r"<small>#(\d+)</small>", page.text)]
    assert shown == ids[:50]
    older = re.search(r'<a href="([^"]+)" rel="next">Older messages</a>', page.text)
    assert older, "no link to the older messages"
    second = manager.get(unescape(older.group(1)))
    assert [int(n) for n in re.findall(r"<small>#(\d+)</small>", second.text)] == ids[50:]
    assert 'rel="next"' not in second.text
