"""Save and finish later, the resume-link email, and what the link does days later."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from html import unescape
from typing import Any

import pytest
from conftest import (
    NUMBERS,
    SECRET_KEYS,
    VEHICLE,
    Mailbox,
    Shopper,
    Store,
    deliver,
    links_in,
    save_for_later,
)

from resume.db import Database
from resume.queries import drafts as drafts_q
from resume.tokens import ResumeLink, Signer


@pytest.fixture
def halfway(shopper: Shopper) -> Shopper:
    """A shopper who filled the vehicle and typed a wrong down payment on the numbers step
    (the term is chosen, not typed, since issue #11)."""
    shopper.start()
    shopper.fill("vehicle", **VEHICLE)
    shopper.fill("numbers", **{**NUMBERS, "down_payment": "3,0o0"})
    return shopper


def test_save_for_later_asks_only_for_an_email_with_an_unticked_box(halfway: Shopper) -> None:
    page = halfway.fill("numbers", action="save", **{**NUMBERS, "down_payment": "3,0o0"})
    html = unescape(page.text)
    assert 'name="email"' in html and 'type="checkbox" name="consent_followup"' in html
    assert 'name="consent_followup" id="f-consent_followup" value="yes">' in html  # not checked
    assert "checked" not in html.split('name="consent_followup"')[1].split(">")[0]
    assert "first_name" not in html and 'name="phone"' not in html


def test_the_email_and_consent_are_stored_and_the_mail_queued_together(
    halfway: Shopper, store: Store
) -> None:
    draft_id = halfway.draft_id
    page = save_for_later(halfway)
    assert "Check your inbox" in unescape(page.text)
    assert "shopper@example.com" in page.text
    draft = store.one("SELECT * FROM drafts WHERE id = :d", d=draft_id)
    assert draft["email"] == "shopper@example.com" and draft["link_sent_at"] is not None
    assert draft["step"] == "numbers"  # where they left
    consent = store.one("SELECT * FROM consents WHERE draft_id = :d", d=draft_id)
    assert consent["kind"] == "followup" and len(consent["text_hash"]) == 64
    assert consent["text"].startswith("Send me reminders") and consent["ip"]
    assert consent["user_agent"]
    assert consent["text_version"] == consent["text_hash"][:12]
    message = store.one("SELECT * FROM outbox WHERE draft_id = :d", d=draft_id)
    assert message["status"] == "pending" and message["to_addr"] == "shopper@example.com"
    assert message["message_id"].startswith("<") and "@127.0.0.1>" in message["message_id"]
    kinds = [kind for kind, _, _ in store.events(draft_id)]
    assert "partial_lead" in kinds and "link_requested" in kinds and "consent_followup" in kinds


def test_no_consent_means_no_consent_record_but_the_link_still_goes(
    halfway: Shopper, store: Store
) -> None:
    draft_id = halfway.draft_id
    save_for_later(halfway, consent=False)
    assert store.rows("SELECT * FROM consents WHERE draft_id = :d", d=draft_id) == []
    assert len(store.rows("SELECT * FROM outbox WHERE draft_id = :d", d=draft_id)) == 1


def test_a_wrong_email_is_kept_and_shown_with_its_message(halfway: Shopper, store: Store) -> None:
    draft_id = halfway.draft_id
    page = save_for_later(halfway, email="shopper@")
    assert "Save and finish later" in unescape(page.text)
    assert 'value="shopper@"' in page.text
    assert halfway.errors() == ["Enter an email address like name@example.com."]
    stored = store.values(draft_id)["email"]
    assert stored["value"] == "shopper@" and not stored["valid"]
    assert store.rows("SELECT * FROM outbox WHERE draft_id = :d", d=draft_id) == []
    assert store.one("SELECT email FROM drafts WHERE id = :d", d=draft_id)["email"] is None


def test_a_double_click_queues_one_email(halfway: Shopper, store: Store) -> None:
    draft_id = halfway.draft_id
    halfway.fill("numbers", action="save", **NUMBERS)
    data = {
        "d": halfway.token,
        "comment_hp": "",
        "action": "send",
        "from": "numbers",
        "email": "shopper@example.com",
    }
    first = halfway.post("save", dict(data), follow=False)
    second = halfway.post("save", dict(data), follow=False)
    assert first.status_code == second.status_code == 303
    assert len(store.rows("SELECT * FROM outbox WHERE draft_id = :d", d=draft_id)) == 1


def test_the_email_arrives_with_both_parts_and_a_working_link(
    halfway: Shopper, settings: Any, mailbox: Mailbox, store: Store
) -> None:
    draft_id = halfway.draft_id
    save_for_later(halfway)
    assert deliver(settings, mailbox.url) == 1
    [message] = mailbox.messages
    assert message["To"] == "shopper@example.com"
    assert message["From"] == "Demo Motors <resume@localhost>"
    assert message["Reply-To"] == "leads@demo-motors.example"
    queued = store.one("SELECT * FROM outbox WHERE draft_id = :d", d=draft_id)
    assert message["Message-ID"] == queued["message_id"]
    assert queued["status"] == "sent" and queued["reply"].startswith("250")
    assert message.get_body(preferencelist=("plain",)) is not None
    html = message.get_body(preferencelist=("html",)).get_content()
    text_part = message.get_body(preferencelist=("plain",)).get_content()
    assert "1200 Example Avenue, Springfield, IL 62701" in text_part
    assert "1200 Example Avenue, Springfield, IL 62701" in html
    [link] = links_in(message)
    assert link in html
    assert "shopper" not in link and "example" not in link  # ids only, no personal data


def test_the_link_reopens_the_exact_step_with_every_value_and_changes_nothing(
    halfway: Shopper, settings: Any, mailbox: Mailbox, store: Store, client: Any
) -> None:
    draft_id = halfway.draft_id
    save_for_later(halfway)
    deliver(settings, mailbox.url)
    [link] = links_in(mailbox.messages[0])
    before = store.snapshot()
    elsewhere = Shopper(client)  # another device: nothing but the link
    page = elsewhere.open(link)
    assert page.status_code == 200
    assert "Your numbers" in page.text and "Welcome back" in page.text
    # The term posted as "6o" matches none of the choices: it comes back as its message.
    assert elsewhere.value("down_payment") == "3000" and 'id="e-term"' in page.text
    # Finance and the credit band are asked on the step before now (issue #11), still kept.
    stored = store.values(draft_id)
    assert stored["plan"]["value"] == "finance" and stored["credit"]["value"] == "good"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "set-cookie" not in page.headers
    assert store.snapshot() == before  # mail scanners open links: a GET changes nothing
    page = elsewhere.fill("numbers", **NUMBERS)
    assert 'id="monthly-payment">$554.90<' in page.text
    kinds = [kind for kind, _, _ in store.events(draft_id)]
    assert kinds.count("resumed") == 1
    assert store.one("SELECT resumed_at FROM drafts WHERE id = :d", d=draft_id)["resumed_at"]


def test_the_link_is_reusable_until_it_expires(
    halfway: Shopper, settings: Any, mailbox: Mailbox, client: Any
) -> None:
    save_for_later(halfway)
    deliver(settings, mailbox.url)
    [link] = links_in(mailbox.messages[0])
    assert client.get(link).status_code == 200
    assert client.get(link).status_code == 200


def _expire(settings: Any, draft_id: str) -> str:
    """A link to `draft_id` signed 31 days ago (the demo dealer's links last 30)."""
    import time as time_module
    from unittest import mock

    signer = Signer(SECRET_KEYS)
    past = time_module.time() - 31 * 86400
    with mock.patch("itsdangerous.timed.time.time", return_value=past):
        return signer.sign_resume(ResumeLink(1, draft_id, 1))


def test_an_expired_link_offers_a_fresh_one_without_revealing_the_address(
    halfway: Shopper, settings: Any, mailbox: Mailbox, store: Store, client: Any
) -> None:
    draft_id = halfway.draft_id
    save_for_later(halfway)
    deliver(settings, mailbox.url)
    store_sql = "UPDATE drafts SET link_sent_at = NULL"
    Store(settings).execute(store_sql)
    token = _expire(settings, draft_id)
    before = store.snapshot()
    page = client.get(f"/r/{token}")
    assert page.status_code == 410
    assert "expired" in page.text and "Email me a new link" in page.text
    assert "shopper@example.com" not in page.text
    assert store.snapshot() == before
    sent = client.post(f"/r/{token}/renew", follow_redirects=True)
    assert sent.status_code == 200
    assert "If these answers were saved with an email address" in sent.text
    assert "shopper@example.com" not in sent.text
    assert deliver(settings, mailbox.url) == 1
    fresh = links_in(mailbox.messages[-1])[0]
    assert client.get(fresh).status_code == 200


def test_asking_again_and_again_sends_one_fresh_link(
    halfway: Shopper, settings: Any, store: Store, client: Any
) -> None:
    draft_id = halfway.draft_id
    save_for_later(halfway)
    Store(settings).execute("UPDATE drafts SET link_sent_at = NULL")
    token = _expire(settings, draft_id)
    for _ in range(3):
        client.post(f"/r/{token}/renew")
    assert len(store.rows("SELECT * FROM outbox WHERE draft_id = :d", d=draft_id)) == 2


def test_renewing_for_a_draft_without_email_says_the_same_and_sends_nothing(
    halfway: Shopper, settings: Any, store: Store, client: Any
) -> None:
    token = _expire(settings, halfway.draft_id)
    sent = client.post(f"/r/{token}/renew", follow_redirects=True)
    assert "If these answers were saved with an email address" in sent.text
    assert store.rows("SELECT * FROM outbox") == []


def test_a_revoked_link_stops_working(
    halfway: Shopper, settings: Any, mailbox: Mailbox, client: Any
) -> None:
    open_page, draft_id = halfway.token, halfway.draft_id
    save_for_later(halfway)
    deliver(settings, mailbox.url)
    [link] = links_in(mailbox.messages[0])

    async def revoke() -> bool:
        db = Database(settings)
        try:
            async with db.write() as conn:
                return await drafts_q.revoke(conn, draft_id)
        finally:
            await db.dispose()

    assert asyncio.run(revoke())
    page = client.get(link)
    assert page.status_code == 410 and "no longer valid" in page.text
    # The credential of a page still open somewhere is void too.
    response = client.post(
        "/embed/demo-motors/payment/numbers",
        data={"d": open_page, "action": "continue", "term": "60"},
    )
    assert response.status_code == 410


@pytest.mark.parametrize("token", ["garbage", "a" * 2000, "W10.abc.def"])
def test_a_bad_link_is_a_clear_page(client: Any, token: str) -> None:
    page = client.get(f"/r/{token}")
    assert page.status_code in (400, 404)
    assert "<h1>" in page.text and "Traceback" not in page.text


def test_a_link_to_a_deleted_draft_is_a_404(client: Any, settings: Any) -> None:
    token = Signer(SECRET_KEYS).sign_resume(ResumeLink(1, "gone", 1))
    page = client.get(f"/r/{token}")
    assert page.status_code == 404


def test_a_partial_lead_from_the_contact_step(settings: Any, store: Store) -> None:
    """With contact before the result (a dealer setting), the phone alone makes a lead."""
    import json

    from litestar.testing import TestClient

    from resume.web.app import create_app

    config = store.one("SELECT config FROM dealers WHERE slug = 'demo-motors'")["config"]
    config = json.loads(config) if isinstance(config, str) else config
    config["contact_before_result"] = True
    Store(settings).execute("UPDATE dealers SET config = :c", c=json.dumps(config))
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as client:
        shopper = Shopper(client)
        shopper.start()
        shopper.fill("vehicle", **VEHICLE)
        page = shopper.fill("numbers", **NUMBERS)
        assert "Where should we send your estimate?" in unescape(page.text)
        draft_id = shopper.draft_id
        shopper.fill("contact", action="back", first_name="Ana", email="", phone="(217) 555-0199")
        draft = store.one("SELECT * FROM drafts WHERE id = :d", d=draft_id)
        assert draft["phone"] == "+12175550199" and draft["email"] is None


def test_the_resumed_page_works_after_a_process_restart(
    halfway: Shopper, settings: Any, mailbox: Mailbox
) -> None:
    """The link carries no server memory: a new app (a restarted server) opens it."""
    from litestar.testing import TestClient

    from resume.web.app import create_app

    save_for_later(halfway)
    deliver(settings, mailbox.url)
    [link] = links_in(mailbox.messages[0])
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as fresh:
        page = fresh.get(link)
        # The wrong term ("6o", posted as typed) is shown again with its message.
        assert page.status_code == 200 and 'id="e-term"' in page.text
    assert dt.datetime.now(dt.UTC)  # keeps the import honest for readers of the module


def test_consent_ticked_with_a_wrong_email_is_asked_again_then_recorded(
    halfway: Shopper, store: Store
) -> None:
    draft_id = halfway.draft_id
    save_for_later(halfway, email="pat@")
    assert store.rows("SELECT * FROM consents WHERE draft_id = :d", d=draft_id) == []
    assert 'name="consent_followup"' in halfway.page.text  # the box is offered again, unticked
    halfway.fill(
        "save",
        action="send",
        **{"from": "numbers", "email": "pat@example.com", "consent_followup": "yes"},
    )
    assert len(store.rows("SELECT * FROM consents WHERE draft_id = :d", d=draft_id)) == 1


def test_a_corrected_address_gets_its_own_email_at_once(halfway: Shopper, store: Store) -> None:
    draft_id = halfway.draft_id
    save_for_later(halfway, email="pat@exampel.com", consent=False)
    halfway.open(halfway.page.url)  # the "check your inbox" page
    save_url = re.search(r'href="([^"]*/save\?[^"]*)"', halfway.page.text)
    assert save_url, "the inbox page links back to the address"
    halfway.open(unescape(save_url.group(1)))
    halfway.fill("save", action="send", **{"from": "numbers", "email": "pat@example.com"})
    sent_to = [
        r["to_addr"]
        for r in store.rows(
            "SELECT to_addr FROM outbox WHERE draft_id = :d ORDER BY id", d=draft_id
        )
    ]
    assert sent_to == ["pat@exampel.com", "pat@example.com"]


def test_a_revoked_draft_is_not_shown_from_an_old_page_address(
    halfway: Shopper, settings: Any, client: Any
) -> None:
    from litestar.testing import TestClient

    from resume.web.app import create_app

    url = str(halfway.page.url)
    Store(settings).execute("UPDATE drafts SET version = version + 1, revision = revision + 1")
    # Another process (or this one, once its seconds-old copy has aged) reads the database.
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as elsewhere:
        page = elsewhere.get(url)
    assert page.status_code == 410 and "replaced by a newer link" in unescape(page.text)
    assert 'id="e-term"' not in page.text


def test_a_revoked_link_offers_a_fresh_one(
    halfway: Shopper, settings: Any, mailbox: Mailbox, client: Any
) -> None:
    save_for_later(halfway)
    deliver(settings, mailbox.url)
    [link] = links_in(mailbox.messages[0])
    Store(settings).execute("UPDATE drafts SET version = version + 1, link_sent_at = NULL")
    page = client.get(link)
    assert page.status_code == 410 and "Email me a new link" in page.text
    client.post(f"{link}/renew")
    deliver(settings, mailbox.url)
    fresh = links_in(mailbox.messages[-1])[0]
    assert client.get(fresh).status_code == 200


def test_the_contact_step_records_consent_like_save_for_later(settings: Any, store: Store) -> None:
    import json

    from litestar.testing import TestClient

    from resume.web.app import create_app

    config = store.one("SELECT config FROM dealers WHERE slug = 'demo-motors'")["config"]
    config = json.loads(config) if isinstance(config, str) else config
    Store(settings).execute(
        "UPDATE dealers SET config = :c", c=json.dumps({**config, "contact_before_result": True})
    )
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as client:
        shopper = Shopper(client)
        shopper.start()
        shopper.fill("vehicle", **VEHICLE)
        shopper.fill("numbers", **NUMBERS)
        draft_id = shopper.draft_id
        shopper.fill(
            "contact", first_name="Ana", email="ana@example.com", phone="", consent_followup="yes"
        )
        shopper.fill("result", action="back")
        shopper.fill(
            "contact", first_name="Ana", email="ana@example.com", phone="", consent_followup="yes"
        )
    [consent] = store.rows("SELECT * FROM consents WHERE draft_id = :d", d=draft_id)
    assert consent["kind"] == "followup" and consent["text"].startswith("Send me reminders")


def test_one_address_gets_at_most_five_links_an_hour(client: Any, store: Store) -> None:
    statuses = []
    for _ in range(6):
        shopper = Shopper(client)
        shopper.start()
        shopper.fill("vehicle", action="save", **VEHICLE)
        page = shopper.fill(
            "save", action="send", **{"from": "vehicle", "email": "Target@Example.com"}
        )
        statuses.append(page.status_code)
    assert statuses == [200] * 5 + [429]
    assert len(store.rows("SELECT * FROM outbox")) == 5


def test_a_save_page_sent_quicker_than_a_person_types_sends_nothing(
    halfway: Shopper, settings: Any, store: Store
) -> None:
    import msgspec
    from litestar.testing import TestClient

    from resume.web.app import create_app

    halfway.fill("numbers", action="save", **{**NUMBERS, "down_payment": "3,0o0"})
    token = halfway.token  # the save page, rendered a moment ago
    slow = msgspec.structs.replace(settings, min_form_seconds=30.0)
    with TestClient(create_app(slow), base_url="http://127.0.0.1:8000") as client:
        response = client.post(
            "/embed/demo-motors/payment/save",
            data={"d": token, "from": "numbers", "email": "pat@example.com", "action": "send"},
        )
    assert response.status_code == 422 and "quicker than a person" in unescape(response.text)
    assert store.rows("SELECT * FROM outbox") == []
