"""The outbox and "Do not email" pages (issue #13, item 3), as a manager and an admin use
them: dead messages with their error, sent again; a queued one stopped; an address added,
its queued mail stopped, removed again unless its owner unsubscribed; each audited; nothing
of another dealership, nothing for a rep, and a clear 4xx for whatever a hostile or clumsy
hand sends.
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


# The suppression list ("Do not email").


def audit_detail(store: Store, action: str) -> list[dict[str, Any]]:
    rows = store.rows("SELECT detail FROM audit WHERE action = :a ORDER BY id", a=action)
    return [json.loads(r["detail"]) if isinstance(r["detail"], str) else r["detail"] for r in rows]


def test_an_address_added_is_never_emailed_and_its_queued_mail_stops(
    client: Any, settings: Any, store: Store, manager: Staff, mailbox: Any
) -> None:
    message = queued(client, store, "pat@example.com")
    manager.get("/dashboard/suppressions")
    added = manager.post(
        "/dashboard/suppressions", email=" Pat@Example.COM ", note="asked by phone, no email"
    )
    assert "The address is on the list. 1 queued message to it was stopped." in unescape(added.text)
    assert store.one("SELECT status FROM outbox WHERE id = :m", m=message)["status"] == (
        "suppressed"
    )
    row = store.one("SELECT email, reason, detail FROM suppressions")
    assert row == {
        "email": "pat@example.com",
        "reason": "manual",
        "detail": "asked by phone, no email",
    }
    assert audit_detail(store, "suppression_added") == [
        {"note": "asked by phone, no email", "queued_stopped": 1}
    ]
    assert deliver(settings, mailbox.url) == 0 and mailbox.messages == []
    # Listed, and found by the start of the address.
    assert "pat@example.com" in manager.get("/dashboard/suppressions?email=pat@").text
    assert "pat@example.com" not in manager.get("/dashboard/suppressions?email=zed").text


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"email": "not an address", "note": "a good reason"}, "email"),
        ({"email": "", "note": "a good reason"}, "email"),
        ({"email": "a@example.com", "note": "no"}, "Say why"),
        ({"email": "a@example.com", "note": "a good reason", "dealer": "999"}, ""),
        ({"email": "a@example.com", "note": "a good reason", "dealer": "x"}, "number"),
    ],
)
def test_a_bad_address_or_reason_is_refused_and_nothing_is_stored(
    store: Store, manager: Staff, fields: dict[str, str], says: str
) -> None:
    manager.get("/dashboard/suppressions")
    before = store.snapshot()
    answer = manager.post("/dashboard/suppressions", follow=False, **fields)
    assert 400 <= answer.status_code < 500 and answer.status_code != 403
    assert says in unescape(answer.text)
    if answer.status_code == 400 and fields["email"] == "not an address":
        assert 'value="not an address"' in answer.text  # shown back as typed
        assert 'aria-invalid="true"' in answer.text
    assert store.snapshot() == before


def test_staff_may_remove_what_staff_added_but_never_an_unsubscribe(
    client: Any, settings: Any, store: Store, manager: Staff
) -> None:
    from resume.queries import suppressions as suppressions_q

    async def unsubscribed() -> None:
        from resume.db import Database

        db = Database(settings)
        try:
            async with db.write() as conn:
                await suppressions_q.add(conn, 1, "gone@example.com", "unsubscribe")
        finally:
            await db.dispose()

    run(unsubscribed())
    manager.get("/dashboard/suppressions")
    manager.post("/dashboard/suppressions", email="typo@example.com", note="typed by mistake")
    ids = {r["email"]: r["id"] for r in store.rows("SELECT id, email FROM suppressions")}
    page = manager.get("/dashboard/suppressions").text
    assert f"/dashboard/suppressions/{ids['typo@example.com']}/remove" in page
    assert f"/dashboard/suppressions/{ids['gone@example.com']}/remove" not in page
    assert "only they can undo it" in page
    before = store.snapshot()
    refused = manager.post(
        f"/dashboard/suppressions/{ids['gone@example.com']}/remove",
        follow=False,
        note="they called us",
    )
    assert refused.status_code == 400 and "only they can ask" in unescape(refused.text)
    assert store.snapshot() == before
    manager.get("/dashboard/suppressions")
    assert (
        manager.post(
            f"/dashboard/suppressions/{ids['typo@example.com']}/remove", follow=False, note="no"
        ).status_code
        == 400
    )  # a reason is needed
    manager.get("/dashboard/suppressions")
    removed = manager.post(
        f"/dashboard/suppressions/{ids['typo@example.com']}/remove", note="typed by mistake"
    )
    assert "it can be emailed again" in removed.text
    assert [r["email"] for r in store.rows("SELECT email FROM suppressions")] == [
        "gone@example.com"
    ]
    assert audit_detail(store, "suppression_removed") == [
        {"note": "typed by mistake", "was": "manual"}
    ]


def test_another_dealerships_list_and_a_rep_get_nothing(
    client: Any, settings: Any, store: Store, manager: Staff
) -> None:
    other = other_dealer(settings)
    from resume.queries import suppressions as suppressions_q

    async def theirs() -> None:
        from resume.db import Database

        db = Database(settings)
        try:
            async with db.write() as conn:
                await suppressions_q.add(conn, other, "theirs@example.com", "manual")
        finally:
            await db.dispose()

    run(theirs())
    (entry,) = store.rows("SELECT id FROM suppressions")
    assert "theirs@example.com" not in manager.get("/dashboard/suppressions").text
    before = store.snapshot()
    manager.get("/dashboard/suppressions")
    gone = manager.post(
        f"/dashboard/suppressions/{entry['id']}/remove", follow=False, note="a good reason"
    )
    assert gone.status_code == 404
    manager.get("/dashboard/suppressions")
    elsewhere_add = manager.post(
        "/dashboard/suppressions",
        follow=False,
        email="x@example.com",
        note="a good reason",
        dealer=str(other),
    )
    assert elsewhere_add.status_code == 404
    assert store.snapshot() == before
    with elsewhere(settings) as browser:
        rep = Staff.active(browser, settings, "pat.rep@demo-motors.example", "sales")
        assert rep.get("/dashboard/suppressions").status_code == 404
        rep.get("/dashboard/leads")
        answer = rep.post(
            "/dashboard/suppressions", follow=False, email="y@example.com", note="why not"
        )
        assert answer.status_code == 404
    assert store.rows("SELECT email FROM suppressions") == [{"email": "theirs@example.com"}]


@pytest.mark.parametrize("query", ["before=abc", "before=" + "9" * 40, "email=" + "a" * 400])
def test_a_damaged_list_address_is_a_clear_400(manager: Staff, query: str) -> None:
    assert manager.get(f"/dashboard/suppressions?{query}").status_code == 400
