"""The vehicle on the dealer's page (issue #11, item 1): passed on the iframe's URL, checked
as if typed, shown as a card on the first step (its boxes folded under "Change"), stored as
the shopper's answers at the first save and, as the page gave it, beside them for staff; a
wrong, oversized or hostile value is shown in its box with the message it would get if typed,
and never breaks the page."""

from __future__ import annotations

import json
from html import unescape
from typing import Any
from urllib.parse import urlencode

import pytest
from conftest import NUMBERS, Shopper, Staff, Store, save_for_later

RAV4 = {
    "condition": "new",
    "year": "2025",
    "make": "Toyota",
    "model": "RAV4",
    "trim": "XLE",
    "price": "34250",
    "stock": "T1234",
    "vin": "2T3P1RFV8RW000000",
}


def arrive(client: Any, query: dict[str, str], widget: str = "payment") -> Shopper:
    shopper = Shopper(client, widget=widget)
    shopper.page = client.get(f"{shopper.base}?{urlencode(query)}")
    assert shopper.page.status_code == 200, shopper.page.text[:500]
    return shopper


def answers(store: Store, draft_id: str) -> dict[str, str]:
    rows = store.rows("SELECT name, value FROM field_values WHERE draft_id = :d", d=draft_id)
    return {r["name"]: r["value"] for r in rows}


def kept(store: Store, draft_id: str) -> Any:
    value = store.one("SELECT page_vehicle FROM drafts WHERE id = :d", d=draft_id)["page_vehicle"]
    return json.loads(value) if isinstance(value, str) else value


def test_the_vehicle_on_the_page_is_a_card_and_continue_stores_it_as_typed(
    client: Any, store: Store
) -> None:
    shopper = arrive(client, RAV4)
    page = unescape(shopper.page.text)
    assert '<div class="vehicle-card">' in shopper.page.text
    assert "2025 Toyota RAV4 XLE</strong> · $34,250</p>" in page  # as the listing shows it
    assert '<details class="change-vehicle"><summary>Change' in shopper.page.text
    # The boxes are there, filled, for a shopper who opens "Change".
    assert shopper.value("make") == "Toyota" and shopper.value("stock_number") == "T1234"
    fields = {
        name: unescape(value)
        for name, value in (
            (n, shopper.value(n))
            for n in ("year", "make", "model", "trim", "stock_number", "price")
        )
        if value is not None
    }
    result = shopper.fill("vehicle", condition="new", **fields)
    assert "<h2>Finance or lease</h2>" in unescape(result.text)  # the next step
    draft_id = shopper.draft_id
    stored = answers(store, draft_id)
    assert stored["make"] == "Toyota" and stored["price"] == "34250" and stored["trim"] == "XLE"
    assert kept(store, draft_id) == RAV4


def test_a_shopper_who_changes_it_keeps_both_and_staff_see_both(
    client: Any, settings: Any, store: Store
) -> None:
    shopper = arrive(client, RAV4)
    shopper.fill(
        "vehicle", condition="used", year="2023", make="Toyota", model="RAV4", price="29900"
    )
    draft_id = shopper.draft_id
    assert answers(store, draft_id)["year"] == "2023"
    assert kept(store, draft_id)["year"] == "2025"
    save_for_later(shopper, "pat@example.com", numbers=NUMBERS)
    (lead,) = store.rows("SELECT lead_id FROM drafts WHERE id = :d", d=draft_id)
    manager = Staff.active(client, settings, "morgan@demo-motors.example", "manager")
    page = unescape(manager.get(f"/dashboard/leads/{lead['lead_id']}").text)
    assert "The vehicle their page named:</strong> 2025 Toyota RAV4 XLE · new · $34250" in page
    assert "stock T1234" in page and "VIN 2T3P1RFV8RW000000" in page
    assert "29900" in page or "29,900" in page  # what they chose instead


@pytest.mark.parametrize(
    ("param", "value", "box", "message"),
    [
        ("year", "19999", "year", ""),
        ("year", "soon", "year", ""),
        ("price", "-5", "price", ""),
        ("price", "lots", "price", ""),
        ("make", "x" * 500, "make", "Use 40 characters or fewer."),
        ("model", "RAV4\x1b", "model", "Remove the special characters"),
        ("condition", "stolen", "condition", ""),
    ],
)
def test_a_wrong_value_is_shown_in_its_box_with_the_message_it_would_get(
    client: Any, store: Store, param: str, value: str, box: str, message: str
) -> None:
    shopper = arrive(client, {**RAV4, param: value})
    assert '<div class="vehicle-card">' not in shopper.page.text  # the boxes, not the card
    typed = Shopper(client)
    typed.start()
    as_typed = typed.fill(
        "vehicle",
        **{
            **{
                k: v
                for k, v in RAV4.items()
                if k in ("condition", "year", "make", "model", "trim", "price")
            },
            box: value,
        },
    )
    expected = [e for e in typed.errors() if e]
    assert expected, "the typed value should have been refused too"
    assert shopper.errors() == expected
    if message:
        assert message in expected[0]
    assert as_typed.status_code == 200
    # Nothing is stored before the shopper presses a button.
    assert store.rows("SELECT id FROM drafts WHERE id = :d", d=shopper.draft_id) == []


def test_the_card_shows_cents_only_when_the_price_has_some(client: Any) -> None:
    for given, shown in (("34250", "$34,250</p>"), ("34250.5", "$34,250.50</p>"),
                         ("$34,250.00", "$34,250</p>")):  # fmt: skip
        page = unescape(arrive(client, {**RAV4, "price": given}).page.text)
        assert f"2025 Toyota RAV4 XLE</strong> · {shown}" in page, given


def test_hostile_parameters_never_break_the_page(client: Any, store: Store) -> None:
    for query in (
        {"make": "<script>alert(1)</script>", "model": '"><img src=x onerror=1>'},
        {"image": "javascript:alert(1)"},
        {"image": "https://evil.example/car.jpg"},
        {"price": "1e999", "year": "%00"},
        {"vin": "🚗" * 100, "stock": "\u202e" * 50},
        {"unknown": "x", "lang": "klingon"},
    ):
        shopper = arrive(client, {**RAV4, **query})
        assert "<script>alert" not in shopper.page.text and "onerror=1>" not in shopper.page.text
        assert "evil.example" not in shopper.page.text and "javascript:" not in shopper.page.text


def test_a_photo_on_the_dealers_own_site_is_shown(client: Any, store: Store) -> None:
    origin = store.one("SELECT origins FROM dealers WHERE slug = 'demo-motors'")["origins"]
    origin = (json.loads(origin) if isinstance(origin, str) else origin)[0]
    photo = f"{origin}/photos/t1234.jpg"
    shopper = arrive(client, {**RAV4, "image": photo})
    assert f'<img src="{photo}" alt=""' in shopper.page.text
    policy = shopper.page.headers["content-security-policy"]
    (images,) = [d.split()[1:] for d in policy.split(";") if d.split()[:1] == ["img-src"]]
    assert origin in images  # that one site may serve the page its photo


def test_the_trade_in_takes_the_shoppers_own_car_where_it_fits(client: Any, store: Store) -> None:
    shopper = arrive(
        client,
        {
            "vin": "1HGCM82633A004352",
            "year": "2003",
            "make": "Honda",
            "model": "Accord",
            "price": "34250",
            "condition": "new",
        },
        widget="trade-in",
    )
    assert shopper.value("vin") == "1HGCM82633A004352" and shopper.value("make") == "Honda"
    assert "vehicle-card" not in shopper.page.text  # their own car: the boxes, filled in
    # The trade-in has no price or new/used box: those parameters fill nothing there.
    assert shopper.value("price") is None and shopper.value("condition") is None


def test_without_the_vehicle_the_first_step_is_as_before(client: Any) -> None:
    shopper = Shopper(client)
    shopper.start()
    assert "vehicle-card" not in shopper.page.text and "page_vehicle" not in shopper.page.text
