"""The shopper's pages over HTTP, against a real database: what the page shows and what
was stored, for good answers, wrong ones, and the requests a hostile or clumsy client sends.
"""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
from conftest import NUMBERS, SECRET_KEYS, VEHICLE, Shopper, Store

from resume.tokens import FormCredential, Signer


def test_the_first_page_stores_nothing_and_is_framable_by_the_dealer_only(
    shopper: Shopper, store: Store
) -> None:
    before = store.rows("SELECT count(*) AS n FROM drafts")[0]["n"]
    page = shopper.start()
    csp = page.headers["content-security-policy"]
    assert "script-src 'none'" in csp
    assert "frame-ancestors http://localhost:8000" in csp and "*" not in csp
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "set-cookie" not in page.headers
    assert "<script" not in unescape(page.text).lower()
    assert "Your answers are saved" in unescape(page.text)
    assert store.rows("SELECT count(*) AS n FROM drafts")[0]["n"] == before


def test_a_step_saves_every_field_as_typed_then_redirects(shopper: Shopper, store: Store) -> None:
    shopper.start()
    response = shopper.post(
        "vehicle",
        {"d": shopper.token, "comment_hp": "", "action": "continue", **VEHICLE},
        follow=False,
    )
    assert response.status_code == 303
    assert "set-cookie" not in response.headers
    assert response.headers["location"].startswith("/embed/demo-motors/payment/plan?d=")
    page = shopper.open(response.headers["location"])
    assert "Finance or lease" in unescape(page.text)
    stored = store.values(shopper.draft_id)
    assert stored["price"]["value"] == "32,000" and stored["price"]["valid"]
    assert stored["make"]["step"] == "vehicle"
    assert set(VEHICLE) <= set(stored)
    kinds = [kind for kind, _, _ in store.events(shopper.draft_id)]
    assert kinds.count("step_saved") == 1 and "draft_started" in kinds
    assert kinds.count("field_changed") == len(VEHICLE)
    draft = store.one("SELECT * FROM drafts WHERE id = :d", d=shopper.draft_id)
    assert draft["step"] == "plan" and draft["reached"] == 1 and draft["email"] is None


def test_an_invalid_value_is_kept_shown_with_its_message_and_survives_back(
    shopper: Shopper, store: Store
) -> None:
    shopper.start()
    shopper.fill("vehicle", **VEHICLE)
    # The term is a choice now (issue #11, item 2); an amount is still typed, and mistyped.
    page = shopper.fill("numbers", **{**NUMBERS, "down_payment": "3,0o0"})
    assert "Your numbers" in unescape(page.text)
    assert shopper.value("down_payment") == "3,0o0"
    # The summary: the answer's name as a link to its box, its message read out with it.
    assert (
        '<a href="#f-down_payment">Down payment<span class="visually-hidden">: Enter an amount '
        "in dollars" in unescape(page.text)
    )
    assert 'href="#f-down_payment"' in unescape(page.text)
    stored = store.values(shopper.draft_id)["down_payment"]
    assert stored["value"] == "3,0o0" and not stored["valid"] and "dollars" in stored["error"]
    shopper.fill("numbers", action="back", **{**NUMBERS, "down_payment": "3,0o0"})
    assert "Finance or lease" in unescape(shopper.page.text)
    shopper.fill("plan", plan="finance", credit="good")
    assert shopper.value("down_payment") == "3,0o0"
    assert shopper.errors() == ["Enter an amount in dollars, like 25,000 or 25000.50."]


def test_back_saves_without_validating(shopper: Shopper, store: Store) -> None:
    shopper.start()
    shopper.fill("vehicle", **VEHICLE)
    shopper.fill("plan", action="back", plan="lease", credit="")
    assert "The vehicle" in unescape(shopper.page.text)
    assert shopper.errors() == []
    stored = store.values(shopper.draft_id)
    assert stored["plan"]["value"] == "lease" and stored["credit"]["value"] == ""
    assert not stored["credit"]["valid"]


def test_continue_with_missing_answers_shows_the_messages(shopper: Shopper) -> None:
    shopper.start()
    shopper.fill(
        "vehicle", condition="new", year="", make="", model="", trim="", stock_number="", price=""
    )
    assert "The vehicle" in unescape(shopper.page.text)
    assert "Enter price." in shopper.errors()
    assert "Please check these answers" in unescape(shopper.page.text)


def test_the_result_shows_the_whole_calculation(shopper: Shopper, store: Store) -> None:
    shopper.start()
    shopper.fill("vehicle", **VEHICLE)
    page = shopper.fill("numbers", **NUMBERS)
    assert 'id="monthly-payment">$554.90<' in unescape(page.text)
    for label in (
        "Vehicle price",
        "Sales tax",
        "Trade-in equity",
        "Amount financed",
        "APR",
        "Total of payments",
        "Total interest",
    ):
        assert label in unescape(page.text)
    assert "not an offer of credit" in unescape(page.text)
    draft = store.one("SELECT * FROM drafts WHERE id = :d", d=shopper.draft_id)
    # Seeing the payment does not finish the widget: a shopper who leaves here is followed up
    # with the result step's copy.
    assert draft["status"] == "open" and draft["step"] == "result"


def test_a_lease_shows_cap_cost_residual_and_money_factor(shopper: Shopper) -> None:
    shopper.start()
    shopper.fill("vehicle", **VEHICLE)
    page = shopper.fill("numbers", **{**NUMBERS, "plan": "lease", "term": "36"})
    # Plain words first, each with the leasing term beside it (issue #11, item 3).
    for label in (
        "(adjusted capitalized cost)",
        'Value at lease end, 58% of the price <span class="term">(residual value)',
        'Lease rate, about 6.24% APR <span class="term">(money factor)',
        "(depreciation)",
        'Lease charge a month <span class="term">(rent charge)',
        "Tax a month",
    ):
        assert label in unescape(page.text)


def test_jumping_back_to_an_earlier_step_saves_this_one(shopper: Shopper, store: Store) -> None:
    shopper.start()
    shopper.fill("vehicle", **VEHICLE)
    shopper.fill("numbers", action="goto:vehicle", **{**NUMBERS, "down_payment": "4,500"})
    assert "The vehicle" in unescape(shopper.page.text)
    assert store.values(shopper.draft_id)["down_payment"]["value"] == "4,500"


def test_a_step_not_reached_is_refused(shopper: Shopper, store: Store) -> None:
    shopper.start()
    shopper.fill("vehicle", **VEHICLE)
    response = shopper.client.get(f"/embed/demo-motors/payment/result?d={shopper.token}")
    assert response.status_code == 409
    assert "isn't open yet" in unescape(response.text)
    before = store.snapshot()
    response = shopper.post("result", {"d": shopper.token, "action": "save"})
    assert response.status_code == 409
    response = shopper.post("numbers", {"d": shopper.token, "action": "goto:result"})
    assert response.status_code == 409
    assert store.snapshot() == before


def test_refresh_after_a_save_does_not_resubmit(shopper: Shopper, store: Store) -> None:
    shopper.start()
    shopper.fill("vehicle", **VEHICLE)
    url = str(shopper.page.url)
    before = store.rows("SELECT count(*) AS n FROM field_values")[0]["n"]
    again = shopper.client.get(url)
    # The next step (its heading: the progress names only the steps reached, issue #11).
    assert again.status_code == 200 and "<h2>Finance or lease</h2>" in unescape(again.text)
    assert store.rows("SELECT count(*) AS n FROM field_values")[0]["n"] == before


def test_showroom_wish_is_recorded(shopper: Shopper, store: Store) -> None:
    shopper.start()
    shopper.fill("vehicle", **VEHICLE)
    shopper.fill("numbers", **NUMBERS)
    draft_id = shopper.draft_id
    page = shopper.fill("result", action="showroom")
    assert "We'll have it ready for you" in unescape(page.text)
    assert "1200 Example Avenue" in unescape(page.text)
    # The phone is a call and the address a map (in a new tab: maps refuse to be framed).
    assert '<a href="tel:+12175550142">(217) 555-0142</a>' in page.text
    assert (
        'href="https://www.google.com/maps/search/?api=1&amp;query=1200+Example+Avenue%2C'
        '+Springfield%2C+IL+62701" target="_blank" rel="noopener"'
    ) in page.text
    assert "leave your email" in unescape(page.text)
    draft = store.one("SELECT * FROM drafts WHERE id = :d", d=draft_id)
    assert draft["wants_showroom"]
    assert ("showroom_requested", "result", None) in store.events(draft_id)


# --- bad input: a 4xx page a person understands, and nothing stored is damaged -------------


@pytest.fixture
def started(shopper: Shopper, store: Store) -> tuple[Shopper, dict[str, Any]]:
    """A shopper one step in, and a snapshot of the database to compare after a bad request."""
    shopper.start()
    shopper.fill("vehicle", **VEHICLE)
    return shopper, store.snapshot()


def _intact(store: Store, before: dict[str, Any]) -> None:
    after = store.snapshot()
    for table in ("drafts", "field_values", "consents", "outbox"):
        assert after[table] == before[table], table


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/embed/no-such-dealer/payment", 404),
        ("/embed/demo-motors/no-such-widget", 404),
        ("/embed/demo-motors/payment/no-such-step?d=x", 400),
        ("/nowhere", 404),
        ("/embed/" + "x" * 300 + "/payment", 404),
    ],
)
def test_unknown_addresses_get_a_page(client: Any, path: str, status: int) -> None:
    response = client.get(path)
    assert response.status_code == status
    assert "text/html" in response.headers["content-type"]
    assert "<h1>" in unescape(response.text) and "Traceback" not in unescape(response.text)


def test_unknown_step_with_a_valid_credential(started: Any, store: Store) -> None:
    shopper, before = started
    response = shopper.post("no-such-step", {"d": shopper.token, "action": "continue"})
    assert response.status_code == 404 and "no such step" in unescape(response.text)
    _intact(store, before)


@pytest.mark.parametrize(
    ("mangle", "status", "message"),
    [
        (lambda t: t[:-3] + "abc", 400, "changed or is not ours"),
        (lambda t: "", 400, "incomplete"),
        (lambda t: "not-a-token", 400, "changed or is not ours"),
    ],
)
def test_a_tampered_credential_is_refused(
    started: Any, store: Store, mangle: Any, status: int, message: str
) -> None:
    shopper, before = started
    data = {"d": mangle(shopper.token), "action": "continue", **NUMBERS}
    response = shopper.post("numbers", data)
    assert response.status_code == status and message in unescape(response.text)
    _intact(store, before)


def test_another_dealers_credential_is_refused(started: Any, store: Store) -> None:
    shopper, before = started
    forged = Signer(SECRET_KEYS).sign_form(FormCredential(999, "payment", shopper.draft_id, 1, 1))
    response = shopper.post("numbers", {"d": forged, "action": "continue", **NUMBERS})
    assert response.status_code == 400 and "another page" in unescape(response.text)
    _intact(store, before)


def test_a_credential_signed_with_an_unknown_key_is_refused(started: Any, store: Store) -> None:
    shopper, before = started
    forged = Signer(("attacker-key-0123456789",)).sign_form(
        FormCredential(1, "payment", shopper.draft_id, 1, 1)
    )
    response = shopper.post("numbers", {"d": forged, "action": "continue", **NUMBERS})
    assert response.status_code == 400
    _intact(store, before)


def test_an_expired_page_credential_says_so(
    started: Any, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    shopper, before = started
    token = shopper.token
    import time as time_module

    real = time_module.time
    monkeypatch.setattr(time_module, "time", lambda: real() + 73 * 3600)
    response = shopper.post("numbers", {"d": token, "action": "continue", **NUMBERS})
    monkeypatch.undo()
    assert response.status_code == 410 and "open for more than 72 hours" in unescape(response.text)
    _intact(store, before)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"d=x&d=y", "twice"),
        (b"price=%FF%FE", "characters we can't read"),
        ("make=Škoda".encode(), "characters we can't read"),
        (b"make=a%00b", "can't store"),
        (b"&".join(b"f%d=1" % i for i in range(200)), "more fields"),
    ],
)
def test_malformed_bodies_get_a_400(started: Any, store: Store, body: bytes, message: str) -> None:
    shopper, before = started
    response = shopper.client.post(
        "/embed/demo-motors/payment/numbers",
        content=body,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 400 and message in unescape(response.text)
    _intact(store, before)


def test_unknown_and_duplicate_fields_are_refused(started: Any, store: Store) -> None:
    shopper, before = started
    response = shopper.post(
        "numbers", {"d": shopper.token, "action": "continue", "is_admin": "1", **NUMBERS}
    )
    assert response.status_code == 400 and "is_admin" in unescape(response.text)
    body = f"d={shopper.token}&action=continue&term=60&term=72".encode()
    response = shopper.client.post(
        "/embed/demo-motors/payment/numbers",
        content=body,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 400 and "'term' twice" in unescape(response.text)
    _intact(store, before)


def test_an_unknown_button_is_refused(started: Any, store: Store) -> None:
    shopper, before = started
    response = shopper.post("numbers", {"d": shopper.token, "action": "delete", **NUMBERS})
    assert response.status_code == 400 and "button" in unescape(response.text)
    _intact(store, before)


def test_oversized_bodies_and_fields(started: Any, store: Store) -> None:
    shopper, before = started
    response = shopper.client.post(
        "/embed/demo-motors/payment/numbers",
        content=b"d=" + b"x" * 20_000,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413 and "too large" in unescape(response.text)
    response = shopper.post(
        "numbers", {"d": shopper.token, "action": "continue", **{**NUMBERS, "term": "9" * 2500}}
    )
    assert response.status_code == 413
    _intact(store, before)


def test_a_json_or_multipart_post_is_refused(started: Any, store: Store) -> None:
    shopper, before = started
    response = shopper.client.post("/embed/demo-motors/payment/numbers", json={"d": "x"})
    assert response.status_code == 400 and "submitted form" in unescape(response.text)
    _intact(store, before)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("1e309", "Enter an amount in dollars"),
        ("NaN", "Enter an amount in dollars"),
        ("-0", "can't be negative"),
        ("Infinity", "Enter an amount in dollars"),
    ],
)
def test_odd_numbers_get_a_field_message_and_are_stored_as_typed(
    started: Any, store: Store, typed: str, message: str
) -> None:
    shopper, _ = started
    page = shopper.fill("numbers", **{**NUMBERS, "down_payment": typed})
    assert page.status_code == 200
    assert any(message in error for error in shopper.errors())
    stored = store.values(shopper.draft_id)["down_payment"]
    assert stored["value"] == typed and not stored["valid"]


def test_a_money_value_with_dollar_sign_and_commas_is_valid(started: Any, store: Store) -> None:
    shopper, _ = started
    page = shopper.fill("numbers", **{**NUMBERS, "down_payment": "$1,234.50"})
    assert "monthly-payment" in unescape(page.text)
    assert store.values(shopper.draft_id)["down_payment"]["valid"]


def test_a_get_with_an_unknown_draft_is_a_404(client: Any) -> None:
    forged = Signer(SECRET_KEYS).sign_form(FormCredential(1, "payment", "nonexistent", 1, 1))
    response = client.get(f"/embed/demo-motors/payment/numbers?d={forged}")
    assert response.status_code == 404 and "couldn't find" in unescape(response.text)


# --- bots, without JavaScript --------------------------------------------------------------


def test_a_filled_honeypot_is_dropped_without_touching_the_draft(
    started: Any, store: Store
) -> None:
    shopper, before = started
    response = shopper.post(
        "numbers",
        {"d": shopper.token, "comment_hp": "http://spam.example", "action": "continue", **NUMBERS},
    )
    assert response.status_code == 400 and "automatically" in unescape(response.text)
    _intact(store, before)


def test_a_quick_correct_step_goes_through_unless_the_browser_could_fill_it(
    settings: Any, store: Store
) -> None:
    """Issue #11, item 5: the bot timer no longer bounces a person's quick correct answers."""
    import msgspec
    from litestar.testing import TestClient

    from resume.web.app import create_app

    slow = msgspec.structs.replace(settings, min_form_seconds=30.0)
    with TestClient(create_app(slow), base_url="http://127.0.0.1:8000") as client:
        # Nothing on these steps is autofilled: a quick Continue is a person who knew the answer.
        shopper = Shopper(client)
        shopper.start()
        assert "<h2>Finance or lease</h2>" in unescape(shopper.fill("vehicle", **VEHICLE).text)
        assert 'id="monthly-payment"' in shopper.fill("numbers", **NUMBERS).text
        assert store.values(shopper.draft_id)["term"]["value"] == "60"
        # Contact details the browser fills in one go are timed; the page says why it came
        # back and keeps every answer, unsaved, for a second press.
        applicant = Shopper(client, widget="credit")
        applicant.start()
        before = store.snapshot()
        about = {"first_name": "Rosa", "last_name": "Delgado", "birthdate": "04/30/1988",
                 "email": "rosa@example.com", "phone": ""}  # fmt: skip
        page = applicant.fill("about", **about)
        assert page.status_code == 422
        text = unescape(page.text)
        assert "quicker than we expect from a person" in text
        assert "Everything you typed is still here" in text and "press the button again" in text
        assert applicant.errors() == []  # nothing is marked wrong: nothing was
        for name, value in about.items():
            if value:
                assert applicant.value(name) == value, name
        _intact(store, before)
        # Save for later is timed on any step: it leads to an email.
        page = shopper.fill("result", action="save")
        assert page.status_code == 422 and "quicker than we expect" in unescape(page.text)


def test_rate_limits_per_address_and_per_draft(settings: Any, store: Store) -> None:
    import msgspec
    from litestar.testing import TestClient

    from resume.web.app import create_app

    tight = msgspec.structs.replace(settings, rate_limit_ip=1000, rate_limit_draft=3)
    with TestClient(create_app(tight), base_url="http://127.0.0.1:8000") as client:
        shopper = Shopper(client)
        shopper.start()
        shopper.fill("vehicle", **VEHICLE)
        statuses = [
            shopper.fill("plan", action="back", plan="finance", credit="good").status_code
            if i % 2 == 0
            else shopper.fill("vehicle", **VEHICLE).status_code
            for i in range(4)
        ]
        assert statuses == [200, 200, 429, 429]  # the first save counted too: 3 a minute
        assert "wait a minute" in unescape(
            shopper.client.post(
                "/embed/demo-motors/payment/vehicle",
                data={"d": shopper.token, "action": "continue", **VEHICLE},
            ).text
        )
    tight = msgspec.structs.replace(settings, rate_limit_ip=2)
    with TestClient(create_app(tight), base_url="http://127.0.0.1:8000") as client:
        shopper = Shopper(client)
        shopper.start()
        assert shopper.fill("vehicle", **VEHICLE).status_code == 200
        assert shopper.fill("plan", action="back", plan="finance", credit="good").status_code == 200
        response = shopper.fill("vehicle", **VEHICLE)
        assert response.status_code == 429


# --- the pages around the widget ---------------------------------------------------------


def test_other_pages_cannot_be_framed(client: Any) -> None:
    for path in ("/healthz", "/mail", "/nowhere"):
        response = client.get(path)
        if "text/html" in response.headers.get("content-type", ""):
            assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
            assert response.headers["x-frame-options"] == "DENY"


def test_the_dealer_theme_reaches_the_stylesheet(client: Any) -> None:
    response = client.get("/style/demo-motors")
    assert response.status_code == 200 and "text/css" in response.headers["content-type"]
    assert "--accent: #0b5cad" in unescape(response.text)


def test_the_demo_page_embeds_the_widget_from_another_origin(client: Any) -> None:
    response = client.get("/demo", follow_redirects=False)
    assert response.status_code == 302
    assert response.headers["location"] == "http://localhost:8000/demo"
    page = client.get("http://localhost:8000/demo")
    assert page.status_code == 200
    # The calculator gets the car the page shows, as the README's vehicle page template does.
    framed = "http://127.0.0.1:8000/embed/demo-motors/payment?condition=new&year=2025&make=Toyota"
    assert f'src="{framed}&model=RAV4&trim=XLE&price=34250&stock=DM2451"' in unescape(page.text)
    assert 'src="http://127.0.0.1:8000/embed/demo-motors/trade-in"' in unescape(
        client.get("http://localhost:8000/demo?widget=trade-in").text
    )
    assert "frame-src http://127.0.0.1:8000" in page.headers["content-security-policy"]


def test_a_field_changed_at_moves_only_when_its_text_changes(
    shopper: Shopper, store: Store
) -> None:
    shopper.start()
    shopper.fill("vehicle", **VEHICLE)
    draft_id = shopper.draft_id
    first = store.values(draft_id)
    shopper.fill("numbers", action="back", **NUMBERS)
    shopper.fill("vehicle", **{**VEHICLE, "price": "31,500"})
    second = store.values(draft_id)
    assert second["make"]["changed_at"] == first["make"]["changed_at"]
    assert second["price"]["changed_at"] != first["price"]["changed_at"]
    assert second["price"]["value"] == "31,500"
    changes = [f for kind, _, f in store.events(draft_id) if kind == "field_changed"]
    assert changes.count("price") == 2 and changes.count("make") == 1


def test_step_views_are_counted_for_the_funnel(settings: Any, store: Store) -> None:
    from litestar.testing import TestClient

    from resume.web.app import create_app

    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as client:
        shopper = Shopper(client)
        shopper.start()
        shopper.fill("vehicle", **VEHICLE)
        draft_id = shopper.draft_id
    # Views ride along with the next save, or are written when the server stops.
    views = store.rows("SELECT step, draft_id FROM events WHERE kind = 'step_viewed' ORDER BY id")
    assert [v["step"] for v in views] == ["vehicle", "plan"]
    assert views[0]["draft_id"] is None and views[1]["draft_id"] == draft_id


def test_a_mistyped_optional_amount_is_not_taken_as_zero(shopper: Shopper) -> None:
    shopper.start()
    shopper.fill("vehicle", **VEHICLE)
    shopper.fill("numbers", **NUMBERS)
    shopper.fill("result", action="back")
    page = shopper.fill("numbers", action="goto:result", **{**NUMBERS, "down_payment": "3k"})
    assert "monthly-payment" not in page.text
    assert "A few answers need checking" in page.text and "Down payment" in page.text


def test_line_breaks_typed_into_the_vehicle_do_not_break_the_email(
    shopper: Shopper, settings: Any, mailbox: Any, store: Store
) -> None:
    from conftest import deliver

    shopper.start()
    shopper.fill("vehicle", **{**VEHICLE, "make": "Toyota\r\nBcc: x@evil.example"})
    draft_id = shopper.draft_id
    shopper.fill("numbers", action="save", **NUMBERS)
    shopper.fill("save", action="send", **{"from": "numbers", "email": "pat@example.com"})
    assert deliver(settings, mailbox.url) == 1
    [message] = mailbox.messages
    assert "\n" not in message["Subject"] and message["Bcc"] is None
    assert mailbox.envelopes[0][1] == ["pat@example.com"]
    assert (
        store.one("SELECT status FROM outbox WHERE draft_id = :d", d=draft_id)["status"] == "sent"
    )


def test_the_first_page_posted_twice_makes_one_draft(shopper: Shopper, store: Store) -> None:
    shopper.start()
    first_page = shopper.token
    for price in ("32,000", "31,000"):
        response = shopper.post(
            "vehicle",
            {
                "d": first_page,
                "comment_hp": "",
                "action": "continue",
                **{**VEHICLE, "price": price},
            },
            follow=False,
        )
        assert response.status_code == 303
    assert store.one("SELECT count(*) AS n FROM drafts")["n"] == 1
    assert store.values(shopper.draft_id)["price"]["value"] == "31,000"


def test_only_the_dealers_terms_are_offered(shopper: Shopper) -> None:
    shopper.start()
    shopper.fill("vehicle", **VEHICLE)
    money = {k: v for k, v in NUMBERS.items() if k not in {"plan", "credit"}}
    # The dealer's terms for the shopper's plan, as a short set of choices (issue #11, item 2).
    page = shopper.fill("plan", plan="finance", credit="good")
    offered = re.findall(r'name="term" value="(\d+)"', page.text)
    assert offered == ["36", "48", "60", "72", "84"]
    shopper.fill("numbers", **{**money, "term": "13"})
    assert shopper.errors() == ["Choose one of 24, 36, 39, 48, 60, 72 or 84."]
    # A lease-only term for a loan, and a loan term for a lease: refused on the step itself.
    page = shopper.fill("numbers", **{**money, "term": "39"})
    assert "Your numbers" in unescape(page.text) and "monthly-payment" not in page.text
    assert shopper.errors() == [
        "Loans at Demo Motors run 36, 48, 60, 72 or 84 months: choose one of them."
    ]
    shopper.fill("numbers", action="back", **{**money, "term": "39"})
    page = shopper.fill("plan", plan="lease", credit="good")
    offered = re.findall(r'name="term" value="(\d+)"', page.text)
    assert offered == ["24", "36", "39", "48"]
    page = shopper.fill("numbers", **{**money, "term": "72"})
    assert "Your numbers" in unescape(page.text) and "monthly-payment" not in page.text
    assert shopper.errors() == [
        "Leases at Demo Motors run 24, 36, 39 or 48 months: choose one of them."
    ]


def test_a_dealer_phone_that_is_not_a_number_is_shown_not_linked() -> None:
    from resume.templating import tel

    assert tel("(217) 555-0142") == "tel:+12175550142"
    assert tel("+44 20 7946 0958") == "tel:+442079460958"
    for written in ("ask for Sam", "", "555", "x" * 300):
        assert tel(written) == ""
