"""The soft-credit widget: its steps and checks, the FCRA consent, the one pre-qualification per
draft, the carry-over into the payment widget, and personal data sealed at rest."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    DATA_KEYS,
    NEWER_DATA_KEY,
    USED_CRV,
    Mailbox,
    Shopper,
    Store,
    deliver,
    resume_cli,
)
from litestar.testing import TestClient

ABOUT = {
    "first_name": "Rosa",
    "last_name": "Delgado",
    "birthdate": "04/30/1988",
    "email": "rosa@example.com",
    "phone": "",
    "consent_followup": "yes",
}
ADDRESS = {
    "street": "1742 Evergreen Terrace",
    "city": "Shelbyville",
    "state": "IL",
    "zip": "62704",
    "years_at_address": "6",
    "housing": "rent",
    "housing_payment": "1,000",
}
INCOME = {
    "employment": "employed",
    "employer": "Quimby Logistics",
    "years_at_job": "4",
    "monthly_income": "5,000",
    "credit_band": "good",
}
# What must never be readable in the database, a log, an email or a URL.
SENSITIVE = ("1988-04-30", "04/30/1988", "Evergreen", "Shelbyville", "62704", "Quimby", "5,000")


@pytest.fixture
def applicant(client: TestClient[Any]) -> Shopper:
    """A shopper on Demo Motors' soft-credit widget, not started yet."""
    return Shopper(client, widget="credit")


def _to_consent(applicant: Shopper) -> None:
    applicant.start()
    applicant.fill("about", **ABOUT)
    applicant.fill("address", **ADDRESS)
    applicant.fill("income", **INCOME)
    assert "/consent" in str(applicant.page.url), applicant.errors()


def _notice_token(applicant: Shopper) -> str:
    found = re.search(r'name="notice" value="([^"]+)"', applicant.page.text)
    assert found, "the consent page carries no proof of the notice"
    return found.group(1)


def test_the_consent_page_shows_the_notice_with_i_agree_right_under_it(
    applicant: Shopper,
) -> None:
    _to_consent(applicant)
    page = applicant.page.text
    notice = page.index('id="fcra-notice"')
    agree = page.index('<button type="submit" name="action" value="agree"')
    between = page[notice:agree]
    assert "Fair Credit Reporting Act" in between and "Demo Motors" in between
    assert "<input" not in between and "<button" not in between  # nothing in between
    assert "social security" not in page.lower() or "never ask" in page.lower()


def test_i_agree_records_the_consent_and_shows_the_estimate(
    applicant: Shopper, store: Store
) -> None:
    _to_consent(applicant)
    applicant.fill("consent", action="agree", notice=_notice_token(applicant))
    assert "/result" in str(applicant.page.url)
    page = applicant.page.text
    # The built-in provider's worked example (tests/test_prequal.py): $5,000 a month, $1,000
    # housing, good credit: 15 % of income is $750; at 8.99 % over 72 months that repays
    # $41,619.09, shown rounded down to $41,600.
    assert "6.99% to 8.99%" in page
    assert "$750.00" in page and "$41,600.00" in page
    assert "not an offer of credit" in page
    consent = store.one(
        "SELECT kind, text_version, text_hash, text, ip, user_agent FROM consents "
        "WHERE draft_id = :d AND kind = 'credit_check'",
        d=applicant.draft_id,
    )
    assert consent["text_version"] == "fcra-2026-11"
    assert "written instructions to Demo Motors" in consent["text"]
    import hashlib

    assert consent["text_hash"] == hashlib.sha256(consent["text"].encode()).hexdigest()
    assert consent["ip"] and consent["user_agent"]
    prequal = store.one(
        "SELECT status, consent_id FROM prequals WHERE draft_id = :d", d=applicant.draft_id
    )
    assert prequal["status"] == "done"
    draft = store.one("SELECT status FROM drafts WHERE id = :d", d=applicant.draft_id)
    assert draft["status"] == "completed"


def test_agreeing_twice_stores_one_consent_and_runs_one_prequalification(
    applicant: Shopper, store: Store
) -> None:
    _to_consent(applicant)
    token, credential = _notice_token(applicant), applicant.token
    form = {"d": credential, "comment_hp": "", "action": "agree", "notice": token}
    first = applicant.post("consent", dict(form), follow=False)
    replayed = applicant.post("consent", dict(form), follow=False)
    assert first.status_code == 303
    assert replayed.status_code in (303, 409), replayed.text  # the page moved on; no second run
    assert len(store.rows("SELECT id FROM consents WHERE kind = 'credit_check'")) == 1
    assert len(store.rows("SELECT draft_id FROM prequals")) == 1
    started = [e for e in store.events(applicant.draft_id) if e[0] == "prequal_started"]
    assert len(started) == 1


def test_an_agreement_without_the_notice_is_refused_and_nothing_is_stored(
    applicant: Shopper, store: Store
) -> None:
    _to_consent(applicant)
    before = store.snapshot()
    for notice in ("", "forged", _notice_token(applicant)[:-3] + "abc"):
        response = applicant.post(
            "consent",
            {"d": applicant.token, "comment_hp": "", "action": "agree", "notice": notice},
            follow=False,
        )
        assert response.status_code == 400
        assert "I agree" in response.text
    assert store.snapshot() == before


def test_continue_on_the_consent_step_is_not_agreement(applicant: Shopper, store: Store) -> None:
    _to_consent(applicant)
    before = store.snapshot()
    response = applicant.post(
        "consent", {"d": applicant.token, "comment_hp": "", "action": "continue"}, follow=False
    )
    assert response.status_code == 400
    assert store.snapshot() == before


def test_the_result_step_without_agreement_runs_nothing(applicant: Shopper, store: Store) -> None:
    _to_consent(applicant)
    response = applicant.client.get(
        f"/embed/demo-motors/credit/result?d={applicant.token}", follow_redirects=False
    )
    assert response.status_code in (400, 403, 409)
    assert store.rows("SELECT * FROM prequals") == []


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ((dt.date.today() + dt.timedelta(days=3)).strftime("%m/%d/%Y"), "in the future"),
        (
            (dt.date.today().replace(year=dt.date.today().year - 12)).strftime("%m/%d/%Y"),
            "18 or older",
        ),
        ("01/01/" + str(dt.date.today().year - 140), "more than 120 years ago"),
        ("02/30/1990", "doesn't exist"),
        ("1990", "MM/DD/YYYY"),
    ],
)
def test_impossible_birth_dates_get_a_message(
    applicant: Shopper, store: Store, typed: str, message: str
) -> None:
    applicant.start()
    applicant.fill("about", **{**ABOUT, "birthdate": typed})
    assert "/about" in str(applicant.page.url)
    assert any(message in error for error in applicant.errors()), applicant.errors()
    stored = store.values(applicant.draft_id)["birthdate"]
    assert not stored["valid"] and typed not in stored["value"]  # sealed even when wrong


@pytest.mark.parametrize(
    ("income", "message"),
    [("0", "at least $1"), ("9,000,000", "$250,000 or less"), ("-5", "can't be negative")],
)
def test_zero_or_absurd_income_gets_a_message(
    applicant: Shopper, income: str, message: str
) -> None:
    applicant.start()
    applicant.fill("about", **ABOUT)
    applicant.fill("address", **ADDRESS)
    applicant.fill("income", **{**INCOME, "monthly_income": income})
    assert "/income" in str(applicant.page.url)
    assert any(message in error for error in applicant.errors()), applicant.errors()


def test_no_sensitive_value_is_stored_in_clear_text(
    applicant: Shopper, store: Store, settings: Any
) -> None:
    _to_consent(applicant)
    applicant.fill("consent", action="agree", notice=_notice_token(applicant))
    dump = repr(store.snapshot())
    for value in SENSITIVE:
        assert value not in dump, value
    assert "Rosa" in dump  # the name is contact data, kept readable for the sales team
    if settings.is_sqlite:
        # The file itself, pages and write-ahead log, byte for byte.
        path = Path(settings.database_url.split("///", 1)[1])
        raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
        for value in SENSITIVE:
            assert value.encode() not in raw, value
    # Sealed values open again with the key: the shopper's page shows them.
    applicant.client.get(f"/embed/demo-motors/credit/address?d={applicant.token}")


def test_the_estimate_carries_into_the_payment_widget(
    applicant: Shopper, store: Store, client: TestClient[Any]
) -> None:
    _to_consent(applicant)
    applicant.fill("consent", action="agree", notice=_notice_token(applicant))
    origin = applicant.draft_id
    applicant.fill("result", action="carry")
    assert "/embed/demo-motors/payment/vehicle" in str(applicant.page.url)
    payment = Shopper(client)
    payment.page = applicant.page
    linked = store.one("SELECT origin_id, email FROM drafts WHERE id = :d", d=payment.draft_id)
    assert linked == {"origin_id": origin, "email": "rosa@example.com"}
    values = store.values(payment.draft_id)
    assert values["term"]["value"] == "72"
    # In the payment widget the self-rated band is an ordinary answer, as if typed there.
    assert values["credit"]["value"] == "good" and not values["credit"]["sealed"]
    payment.fill("vehicle", **USED_CRV)
    assert 'value="good" checked' in payment.page.text
    payment.fill("plan", plan="finance", credit="good")
    assert payment.value("term") == "72"
    # A second press opens the same payment draft, not another one.
    again = Shopper(client, widget="credit")
    again.open(f"/embed/demo-motors/credit/result?d={store.credential(origin, 'credit')}")
    again.fill("result", action="carry")
    assert store.rows("SELECT id FROM drafts WHERE origin_id = :o", o=origin) == [
        {"id": payment.draft_id}
    ]


def test_the_notice_can_be_printed_or_saved(client: TestClient[Any]) -> None:
    page = client.get("/embed/demo-motors/credit/notice")
    assert page.status_code == 200 and "Fair Credit Reporting Act" in page.text
    saved = client.get("/embed/demo-motors/credit/notice?download=1")
    assert saved.headers["content-disposition"].startswith("attachment;")
    # Dated, like the page: the version id is for our records, not the shopper (issue #11).
    assert "Fair Credit Reporting Act" in saved.text and "version of November 2026" in saved.text
    assert "fcra-2026-11" not in saved.text and "fcra-2026-11" not in page.text


def test_the_alert_says_what_happened_without_personal_details(
    applicant: Shopper, settings: Any, mailbox: Mailbox
) -> None:
    _to_consent(applicant)
    applicant.fill("consent", action="agree", notice=_notice_token(applicant))
    deliver(settings, mailbox.url)
    alerts = [m for m in mailbox.messages if "pre-qualification" in str(m["Subject"])]
    assert len(alerts) == 1
    body = alerts[0].get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "completed a soft-credit pre-qualification" in body and "Rosa Delgado" in body
    for value in (*SENSITIVE, "$750", "41,600", "/r/"):
        assert value not in body, value


def test_keys_rotate_and_the_old_key_can_go(
    applicant: Shopper, store: Store, settings: Any, tmp_path: Path
) -> None:
    _to_consent(applicant)
    applicant.fill("consent", action="agree", notice=_notice_token(applicant))
    before = store.values(applicant.draft_id)["street"]["value"]
    env = {"RESUME_DATA_KEYS": f"{DATA_KEYS[0]},{NEWER_DATA_KEY}"}
    rotated = resume_cli(settings, tmp_path, "keys", "rotate", env=env)
    assert rotated.returncode == 0, rotated.stderr
    assert "re-sealed" in rotated.stdout and "Older keys can now be removed" in rotated.stdout
    after = store.values(applicant.draft_id)["street"]["value"]
    assert after != before and "Evergreen" not in after
    # The old key removed: everything still opens (the worker starts, the page shows it).
    only_new = {"RESUME_DATA_KEYS": NEWER_DATA_KEY}
    status = resume_cli(settings, tmp_path, "keys", "rotate", env=only_new)
    assert status.returncode == 0, status.stderr
    from cryptography.fernet import Fernet

    assert Fernet(NEWER_DATA_KEY).decrypt(after.encode()).decode() == ADDRESS["street"]
    # And the old key alone is now refused at start-up, with a message, not garbage.
    old = resume_cli(settings, tmp_path, "keys", "rotate", env={"RESUME_DATA_KEYS": DATA_KEYS[0]})
    assert old.returncode == 2
    assert "RESUME_DATA_KEYS does not hold the key" in old.stderr
    assert "Traceback" not in old.stderr


def test_a_bad_data_key_is_a_clear_start_up_error(settings: Any, tmp_path: Path) -> None:
    bad = resume_cli(settings, tmp_path, "keys", "rotate", env={"RESUME_DATA_KEYS": "short"})
    assert bad.returncode == 2
    assert "RESUME_DATA_KEYS=*** is not valid" in bad.stderr and "short" not in bad.stderr


def test_a_quick_press_on_the_notice_or_the_estimate_is_shown_back_not_a_500(
    applicant: Shopper, settings: Any, store: Store
) -> None:
    import msgspec

    from resume.web.app import create_app

    _to_consent(applicant)
    consent_token = applicant.token
    slow = msgspec.structs.replace(settings, min_form_seconds=30.0)
    with TestClient(create_app(slow), base_url="http://127.0.0.1:8000") as client:
        quick = Shopper(client, widget="credit")
        quick.page = client.get(f"/embed/demo-motors/credit/consent?d={consent_token}")
        page = quick.fill("consent", action="save")
        assert page.status_code == 422 and "Fair Credit Reporting Act" in page.text
        quick.fill("consent", action="agree", notice=_notice_token(quick))
        assert "/result" in str(quick.page.url)
        page = quick.fill("result", action="showroom")
        assert page.status_code == 422 and "6.99% to 8.99%" in page.text


def test_a_failed_prequalification_completes_the_draft_and_says_so(
    applicant: Shopper, settings: Any, store: Store
) -> None:
    """A provider that fails (a bureau down, a timeout): the claim and the failure are
    written as the agree path writes them, then the shopper's page and the rows are read."""
    import datetime as dt

    from conftest import run

    from resume.db import Database
    from resume.keyring import Keyring
    from resume.outbox import Outgoing
    from resume.queries import prequals as prequals_q

    _to_consent(applicant)
    draft_id = applicant.draft_id
    token = applicant.token
    now = dt.datetime.now(dt.UTC)
    consent = {
        "kind": "credit_check",
        "text_version": "fcra-2026-11",
        "text_hash": "0" * 64,
        "text": "notice",
        "ip": "127.0.0.1",
        "user_agent": "test",
    }
    alert = Outgoing(
        kind="alert",
        context={"moment": "prequal_failed"},
        to_addr="leads@demo-motors.example",
        message_id="<failed@test>",
        dedupe_key=f"alert:{draft_id}:prequal_failed",
    )
    ring = Keyring(settings.data_keys)

    async def fail() -> None:
        db = Database(settings)
        try:
            common = {"draft_id": draft_id, "dealer_id": 1, "widget": "credit", "now": now}
            await db.run_write(
                lambda conn: prequals_q.claim(
                    conn,
                    consent=consent,
                    provider="builtin",
                    result_step="result",
                    result_index=6,  # about, address, home, income, credit, consent, result
                    **common,
                )
            )
            await db.run_write(
                lambda conn: prequals_q.finish(
                    conn, result=None, alerts=[alert], ring=ring, **common
                )
            )
        finally:
            await db.dispose()

    run(fail())
    draft = store.one("SELECT status, revision FROM drafts WHERE id = :d", d=draft_id)
    assert draft["status"] == "completed"  # no cadence for a shopper who did their part
    assert [r["dedupe_key"] for r in store.rows("SELECT dedupe_key FROM outbox")] == [
        f"alert:{draft_id}:prequal_failed"
    ]
    kinds = [e[0] for e in store.events(draft_id)]
    assert kinds[-2:] == ["prequal_failed", "completed"]
    credential = store.credential(draft_id, "credit")
    page = applicant.client.get(f"/embed/demo-motors/credit/result?d={credential}")
    assert "couldn't work out your estimate" in page.text and "will contact you" in page.text
    assert token  # the consent page's credential was real


@pytest.mark.parametrize(
    "change",
    [
        {"credit": {"notice_version": "v" * 33}},
        {"credit": {"notice_version": "2026—11"}},
        {"credit": {"provider": "experian"}},
        {"trade_in": {"mode": "rules", "rules": {"values_by_age": {}}}},
        {
            "trade_in": {
                "mode": "rules",
                "rules": {"values_by_age": {"3": "9000"}, "grade_percent": {"good": "90"}},
            }
        },
    ],
)
def test_dealer_settings_that_would_break_a_page_are_refused(
    change: dict[str, Any], client: TestClient[Any], store: Store
) -> None:
    import json

    import msgspec

    from resume.dealers import DealerConfig
    from resume.dealers.checks import check_config
    from resume.errors import ConfigError

    with pytest.raises((ConfigError, msgspec.ValidationError)):
        check_config(msgspec.convert(change, DealerConfig, strict=False))
    # Written into the database by hand, they make the widget say so (503), not fail (500).
    store.execute("UPDATE dealers SET config = :c", c=json.dumps(change))
    page = client.get("/embed/demo-motors/credit")
    assert page.status_code == 503 and "being set up" in page.text


def test_a_shopper_who_left_at_the_notice_gets_the_consent_steps_copy(
    applicant: Shopper, settings: Any, store: Store, mailbox: Mailbox
) -> None:
    _to_consent(applicant)  # income answered in full: the notice is the page they left on
    draft_id = applicant.draft_id
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=31)
    deliver(settings, mailbox.url, now=later)
    exits = [e[:2] for e in store.events(draft_id) if e[0] == "exited"]
    assert exits == [("exited", "consent")]
    first = store.rows(
        "SELECT due_at FROM outbox WHERE draft_id = :d AND kind = 'followup' ORDER BY id",
        d=draft_id,
    )[0]
    due = dt.datetime.fromisoformat(str(first["due_at"])).replace(tzinfo=dt.UTC)
    deliver(settings, mailbox.url, now=due + dt.timedelta(seconds=1))
    [message] = mailbox.messages
    assert message["Subject"] == "One step left to see what you could finance"
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    for value in SENSITIVE:
        assert value not in text, value
    assert "reminders about financing" in text


def test_rotation_never_writes_back_over_an_answer_saved_meanwhile(
    applicant: Shopper, store: Store, settings: Any
) -> None:
    """A rotation page reads a value, a save changes it, then the page writes: the write is
    conditional on the text it read, so the newer answer stands."""
    from conftest import run

    from resume.db import Database
    from resume.keyring import Keyring
    from resume.queries import sealed as sealed_q

    _to_consent(applicant)
    draft_id = applicant.draft_id
    read_by_rotation = store.values(draft_id)["street"]["value"]
    ring = Keyring((DATA_KEYS[0], NEWER_DATA_KEY))
    saved_meanwhile = ring.seal("1 Newer Street")
    store.execute(
        "UPDATE field_values SET value = :v WHERE draft_id = :d AND name = 'street'",
        v=saved_meanwhile,
        d=draft_id,
    )

    async def write(old: str) -> None:
        db = Database(settings)
        try:
            row = {"b_draft": draft_id, "b_name": "street", "b_old": old}
            await db.run_write(
                lambda conn: sealed_q.reseal_values(
                    conn, [{**row, "b_value": ring.reseal(read_by_rotation)}]
                )
            )
        finally:
            await db.dispose()

    run(write(read_by_rotation))
    assert store.values(draft_id)["street"]["value"] == saved_meanwhile
    run(write(saved_meanwhile))  # read after the save: this one is written
    after = store.values(draft_id)["street"]["value"]
    assert after != saved_meanwhile and ring.open(after) == ADDRESS["street"]
