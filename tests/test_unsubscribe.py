"""Unsubscribe (RFC 8058 one-click) and suppression: no email goes to a suppressed address."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
from conftest import (
    SECRET_KEYS,
    VEHICLE,
    Mailbox,
    Shopper,
    Store,
    deliver,
    saved_for_later,
)

from resume.tokens import FormCredential, Signer, UnsubscribeLink


def unsubscribe_link(message: Any) -> str:
    header = str(message["List-Unsubscribe"]).strip()
    found = re.fullmatch(r"<http://127\.0\.0\.1:8000(/u/[^>]+)>", header)
    assert found, header
    return found.group(1)


@pytest.fixture
def emailed(client: Any, settings: Any, mailbox: Mailbox) -> Any:
    """A shopper who asked for a resume link and received it."""
    saved_for_later(Shopper(client), "pat@example.com")
    assert deliver(settings, mailbox.url) == 1
    return mailbox.messages[0]


def test_every_email_carries_a_one_click_unsubscribe(emailed: Any) -> None:
    link = unsubscribe_link(emailed)
    assert emailed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = emailed.get_body(preferencelist=("plain",)).get_content()
    html = emailed.get_body(preferencelist=("html",)).get_content()
    assert link in text and link in html


def test_the_unsubscribe_page_asks_first_and_changes_nothing(
    emailed: Any, client: Any, store: Store
) -> None:
    before = store.snapshot()
    page = client.get(unsubscribe_link(emailed))
    assert page.status_code == 200
    assert "Stop emails from Demo Motors?" in unescape(page.text)
    assert "p***@example.com" in page.text and "pat@example.com" not in page.text
    assert 'method="post"' in page.text
    assert page.headers["x-frame-options"] == "DENY" and "set-cookie" not in page.headers
    assert store.snapshot() == before


def test_one_click_post_suppresses_once_and_is_idempotent(
    emailed: Any, client: Any, store: Store
) -> None:
    link = unsubscribe_link(emailed)
    for _ in range(2):
        done = client.post(
            link,
            content=b"List-Unsubscribe=One-Click",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert done.status_code == 200 and "unsubscribed" in unescape(done.text)
    [row] = store.rows("SELECT * FROM suppressions")
    assert row["email"] == "pat@example.com" and row["reason"] == "unsubscribe"


def test_unsubscribing_stops_mail_already_queued(
    emailed: Any, client: Any, settings: Any, mailbox: Mailbox, store: Store
) -> None:
    saved_for_later(Shopper(client), "Pat@Example.com")  # another draft, queued before the click
    client.post(unsubscribe_link(emailed))
    assert deliver(settings, mailbox.url) == 0
    assert len(mailbox.messages) == 1
    statuses = [r["status"] for r in store.rows("SELECT status FROM outbox ORDER BY id")]
    assert statuses == ["sent", "suppressed"]


def test_a_suppression_made_after_the_claim_is_checked_at_send(
    client: Any, settings: Any, mailbox: Mailbox, store: Store
) -> None:
    saved_for_later(Shopper(client), "kim@example.com")
    store.execute(
        "INSERT INTO suppressions (dealer_id, email, reason, at) "
        "VALUES (1, 'kim@example.com', 'manual', CURRENT_TIMESTAMP)"
    )
    assert deliver(settings, mailbox.url) == 1
    assert mailbox.messages == []
    assert store.one("SELECT status FROM outbox")["status"] == "suppressed"


def test_a_permanent_refusal_suppresses_the_address(
    client: Any, settings: Any, mailbox: Mailbox, store: Store
) -> None:
    saved_for_later(Shopper(client), "gone@example.com")
    deliver(settings, mailbox.url)
    row = store.one("SELECT * FROM outbox")
    assert row["status"] == "dead" and "550" in row["last_error"]
    [suppressed] = store.rows("SELECT * FROM suppressions")
    assert suppressed["email"] == "gone@example.com" and suppressed["reason"] == "bounce"
    saved_for_later(Shopper(client), "gone@example.com")  # asked again: refused before it is queued
    assert [r["status"] for r in store.rows("SELECT status FROM outbox ORDER BY id")] == ["dead"]


@pytest.mark.parametrize(
    "make",
    [
        lambda s: "garbage",
        lambda s: s.sign_unsubscribe(UnsubscribeLink(1, 1))[:-2] + "xx",
        lambda s: s.sign_form(FormCredential(1, "payment", "abc")),
    ],
)
def test_bad_unsubscribe_links_get_a_clear_page(client: Any, store: Store, make: Any) -> None:
    before = store.snapshot()
    token = make(Signer(SECRET_KEYS))
    for response in (client.get(f"/u/{token}"), client.post(f"/u/{token}")):
        assert response.status_code == 400 and "<h1>" in response.text
    assert store.snapshot() == before


def test_a_link_to_a_message_that_is_gone_is_a_404(client: Any) -> None:
    token = Signer(SECRET_KEYS).sign_unsubscribe(UnsubscribeLink(1, 999))
    assert client.get(f"/u/{token}").status_code == 404
    assert client.post(f"/u/{token}").status_code == 404


def test_asking_for_a_link_after_unsubscribing_says_why_none_comes(
    emailed: Any, client: Any, store: Store
) -> None:
    client.post(unsubscribe_link(emailed))
    shopper = Shopper(client)
    shopper.start()
    shopper.fill("vehicle", action="save", **VEHICLE)
    page = shopper.fill("save", action="send", **{"from": "vehicle", "email": "pat@example.com"})
    assert "unsubscribed from Demo Motors" in unescape(page.text)
    assert len(store.rows("SELECT * FROM outbox")) == 1  # only the first, sent before


def test_staff_can_suppress_an_address_by_hand(
    client: Any, settings: Any, store: Store, tmp_path: Any
) -> None:
    from conftest import resume_cli

    saved_for_later(Shopper(client), "lee@example.com")

    def resume(*args: str) -> Any:
        return resume_cli(settings, tmp_path, *args)

    done = resume("suppress", "Lee@Example.com", "--dealer", "demo-motors")
    assert done.returncode == 0 and "1 queued message(s) cancelled" in done.stdout
    [row] = store.rows("SELECT * FROM suppressions")
    assert row["email"] == "lee@example.com" and row["reason"] == "manual"
    assert store.one("SELECT status FROM outbox")["status"] == "suppressed"
    for bad in (
        ["suppress", "not-an-email", "--dealer", "demo-motors"],
        ["suppress", "a@example.com", "--dealer", "nobody"],
    ):
        refused = resume(*bad)
        assert refused.returncode == 2 and "Traceback" not in refused.stderr
