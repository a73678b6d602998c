"""High-intent moments: an alert to the dealer's lead inbox at once, and an ADF lead to its CRM
that validates against the ADF 1.0 DTD (shared/adf/adf.dtd)."""

from __future__ import annotations

import io
import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import NUMBERS, ROOT, VEHICLE, Mailbox, Shopper, Store, deliver, links_in
from lxml import etree

DTD = ROOT.parent / "shared" / "adf" / "adf.dtd"
# libxml2 (lxml) refuses to compile the DTD's content model of <contact>, which XML calls
# non-deterministic, and then fails every document. This is the same language written
# deterministically: names, then an email with any phones, or phones alone; then an address.
CONTACT = "<!ELEMENT contact (name+, ((email | phone+) | (email, phone+)), address?)>"
SAME_CONTACT = "<!ELEMENT contact (name+, ((email, phone*) | phone+), address?)>"


def adf_dtd() -> Any:
    assert DTD.exists(), f"the ADF DTD is expected at {DTD}"
    text = DTD.read_text()
    assert CONTACT in text, "the DTD changed: revisit the <contact> rewrite"
    return etree.DTD(io.StringIO(text.replace(CONTACT, SAME_CONTACT)))


def adf_document(xml: bytes) -> Any:
    """Parse an ADF document and validate it against the DTD; fail with the DTD's errors."""
    xml = xml.replace(b"\r\n", b"\n")  # mail transports send CRLF
    assert xml.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<?adf version="1.0"?>')
    dtd = adf_dtd()
    document = etree.fromstring(xml)
    assert dtd.validate(document), dtd.error_log.filter_from_errors()
    return document


def with_crm(store: Store, adf_as: str = "attachment") -> None:
    config = store.one("SELECT config FROM dealers WHERE slug = 'demo-motors'")["config"]
    config = json.loads(config) if isinstance(config, str) else config
    config.update(crm_email="leads@crm.example", adf_as=adf_as)
    store.execute("UPDATE dealers SET config = :c", c=json.dumps(config))


def to_showroom(client: Any, *, email: str = "pat@example.com") -> str:
    shopper = Shopper(client)
    shopper.start()
    shopper.fill("vehicle", **VEHICLE)
    shopper.fill("numbers", **NUMBERS)
    draft_id = shopper.draft_id
    token = shopper.token
    shopper.fill("result", action="save")
    shopper.fill("save", action="send", **{"from": "result", "email": email})
    shopper.post("result", {"d": token, "comment_hp": "", "action": "showroom"})
    return draft_id


def test_a_showroom_wish_alerts_the_lead_inbox(
    client: Any, settings: Any, store: Store, mailbox: Mailbox
) -> None:
    draft_id = to_showroom(client)
    alerts = store.rows("SELECT * FROM outbox WHERE kind = 'alert'")
    assert len(alerts) == 1 and alerts[0]["to_addr"] == "leads@demo-motors.example"
    assert store.rows("SELECT * FROM outbox WHERE kind = 'adf'") == []  # no CRM address set
    deliver(settings, mailbox.url)
    [alert] = [m for m in mailbox.messages if m["To"] == "leads@demo-motors.example"]
    assert "wants to finish at the dealership" in alert["Subject"]
    assert "2024 Toyota RAV4 XLE" in alert["Subject"]
    text = alert.get_body(preferencelist=("plain",)).get_content()
    assert "pat@example.com" in text and "$554.90 a month" in text and draft_id in text
    assert alert["List-Unsubscribe"] is None  # the dealer's own inbox


def test_the_same_moment_twice_alerts_once(client: Any, store: Store) -> None:
    shopper = Shopper(client)
    shopper.start()
    shopper.fill("vehicle", **VEHICLE)
    shopper.fill("numbers", **NUMBERS)
    token = shopper.token
    for _ in range(2):
        shopper.post("result", {"d": token, "comment_hp": "", "action": "showroom"})
        token = re.search(r"d=([^&\"]+)", shopper.page.text).group(1) if shopper.page else token
    assert len(store.rows("SELECT * FROM outbox WHERE kind = 'alert'")) == 1


@pytest.mark.parametrize("adf_as", ["attachment", "body"])
def test_the_crm_gets_a_valid_adf_lead(
    client: Any, settings: Any, store: Store, mailbox: Mailbox, adf_as: str
) -> None:
    with_crm(store, adf_as)
    draft_id = to_showroom(client)
    deliver(settings, mailbox.url)
    [lead] = [m for m in mailbox.messages if m["To"] == "leads@crm.example"]
    if adf_as == "attachment":
        [part] = [p for p in lead.iter_attachments()]
        assert part.get_content_type() == "application/x-adf+xml"
        xml = part.get_payload(decode=True)
    else:
        xml = lead.get_body(preferencelist=("plain",)).get_content().encode()
    document = adf_document(xml)
    prospect = document.find("prospect")
    assert prospect.get("status") == "new"
    assert prospect.findtext("id") == draft_id
    vehicle = prospect.find("vehicle")
    assert (vehicle.findtext("year"), vehicle.findtext("make"), vehicle.findtext("model")) == (
        "2024",
        "Toyota",
        "RAV4",
    )
    amounts = {a.get("type"): a.text for a in vehicle.find("finance").findall("amount")}
    assert amounts == {"downpayment": "3000.00", "monthly": "554.90"}
    assert prospect.find("customer/contact").findtext("email") == "pat@example.com"
    comments = prospect.findtext("customer/comments")
    assert "Moment: showroom" in comments and "/r/" in comments


def test_a_later_moment_is_sent_as_a_resend_of_the_same_lead(
    client: Any, settings: Any, store: Store, mailbox: Mailbox
) -> None:
    with_crm(store)
    draft_id = to_showroom(client)
    deliver(settings, mailbox.url)
    [link] = links_in(next(m for m in mailbox.messages if m["To"] == "pat@example.com"))
    back = Shopper(client)
    back.open(link)  # the result step
    back.fill("result", action="back")
    back.fill("numbers", **{**NUMBERS, "term": "72"})  # completes again, after a resume
    deliver(settings, mailbox.url)
    leads = [m for m in mailbox.messages if m["To"] == "leads@crm.example"]
    assert len(leads) == 2
    second = adf_document(next(leads[1].iter_attachments()).get_payload(decode=True))
    assert second.find("prospect").get("status") == "resend"
    assert second.find("prospect").findtext("id") == draft_id


def test_an_alert_leaves_the_outbox_within_seconds(settings: Any, mailbox: Mailbox) -> None:
    """Target: under 60 s from the moment; `resume serve` wakes its worker at once."""
    import msgspec
    from litestar.testing import TestClient

    from resume.web.app import create_app

    live = msgspec.structs.replace(settings, smtp_url=mailbox.url, worker_poll_seconds=30.0)
    with TestClient(create_app(live, run_worker=True), base_url="http://127.0.0.1:8000") as c:
        started = time.monotonic()
        to_showroom(c)
        while time.monotonic() - started < 20 and not any(
            m["To"] == "leads@demo-motors.example" for m in mailbox.messages
        ):
            time.sleep(0.05)
        took = time.monotonic() - started
    assert any(m["To"] == "leads@demo-motors.example" for m in mailbox.messages)
    assert took < 20


def test_the_dtd_check_refuses_a_lead_without_contact_details() -> None:
    """The validation can fail: a contact with a name but no email or phone is refused."""
    broken = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<?adf version="1.0"?>\n<adf><prospect>'
        b"<requestdate>2026-11-22T10:00:00Z</requestdate><vehicle><year>2024</year>"
        b"<make>Kia</make><model>EV6</model></vehicle><customer><contact><name>A</name>"
        b"</contact></customer><vendor><contact><name>V</name><email>v@x.example</email>"
        b"</contact></vendor></prospect></adf>"
    )
    assert isinstance(DTD, Path)
    with pytest.raises(AssertionError, match="does not follow the DTD"):
        adf_document(broken)
