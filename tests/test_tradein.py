"""The trade-in widget: VIN or year/make/model, condition, ownership, contact, the result, the
carry-over into the payment widget, and what a clumsy or hostile shopper sends."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import msgspec
import pytest
from conftest import USED_CRV, Shopper, Store, run
from litestar.testing import TestClient

from resume.db import Database
from resume.dealers import TradeIn, TradeInRules
from resume.tables import dealers

ACCORD = "1HGCM82633A004352"  # a 2003 Honda Accord; check digit 3
CONDITION = {
    "mileage": "148,500",
    "grade": "good",
    "accident": "none",
    "warning_lights": "no",
    "smoked": "no",
    "keys": "two",
    "modifications": "no",
}
CONTACT = {
    "timeline": "this_month",
    "first_name": "Dana",
    "last_name": "Okafor",
    "email": "dana@example.com",
    "phone": "",
    "consent_followup": "yes",
}


@pytest.fixture
def trader(client: TestClient[Any]) -> Shopper:
    """A shopper on Demo Motors' trade-in widget, not started yet."""
    return Shopper(client, widget="trade-in")


def _through(trader: Shopper, **vehicle: str) -> None:
    trader.start()
    trader.fill("vehicle", vin=ACCORD, year="", make="", model="Accord", trim="EX", **vehicle)
    trader.fill("condition", **CONDITION)
    trader.fill(
        "ownership",
        ownership="finance",
        lender="Honda Financial",
        payoff="4,200",
        lease_months_left="",
        buyout="",
    )


def test_a_vin_fills_the_year_and_make(trader: Shopper, store: Store) -> None:
    trader.start()
    trader.fill("vehicle", vin=" 1hgcm82633a004352 ", year="", make="", model="Accord", trim="")
    assert "/condition" in str(trader.page.url)
    values = store.values(trader.draft_id)
    assert values["year"]["value"] == "2003"
    assert values["make"]["value"] == "Honda"
    assert values["vin"]["value"] == " 1hgcm82633a004352 "  # as typed (rule 3)
    assert values["vin"]["valid"]


def test_a_vin_that_disagrees_with_the_year_is_advice_not_a_refusal(
    trader: Shopper, store: Store
) -> None:
    trader.start()
    trader.fill("vehicle", vin=ACCORD, year="2004", make="Toyota", model="Accord", trim="")
    assert "/condition" in str(trader.page.url)  # not held back
    trader.fill("condition", action="back", mileage=CONDITION["mileage"], grade=CONDITION["grade"])
    page = trader.page.text
    assert "This VIN is for a 2003, but the year says 2004" in page
    assert "This VIN is for a Honda, but the make says Toyota" in page
    values = store.values(trader.draft_id)
    assert values["year"]["valid"] and values["year"]["value"] == "2004"


def test_without_a_vin_year_make_and_model_are_needed(trader: Shopper) -> None:
    trader.start()
    trader.fill("vehicle", vin="", year="", make="Honda", model="", trim="")
    assert "/vehicle" in str(trader.page.url)
    errors = trader.errors()
    assert "Enter the year, or the VIN." in errors
    assert "Enter the model, or the VIN." in errors
    # Shown whole beside the box, not as a bare "Required": these boxes are not required on
    # their own. Nor are they marked optional: a VIN, or the year, make and model, will do.
    page = trader.page.text
    assert "Required" not in page
    labels = dict(re.findall(r'<label for="f-(\w+)">(.*?)</label>', page, re.S))
    assert [name for name, label in labels.items() if "(optional)" in label] == ["trim"]


@pytest.mark.parametrize(
    ("vin", "message"),
    [
        ("1HGCM82633A00435", "17"),
        ("1HGCM82633A0043521", "17"),
        ("1HGCM82633AOO4352", "never use the letters I, O or Q"),
        ("1HGCM82634A004352", "mistyped"),
        ("1HGCM8263３A004352", "letters"),
    ],
)
def test_a_bad_vin_gets_a_message_and_is_kept_as_typed(
    trader: Shopper, store: Store, vin: str, message: str
) -> None:
    trader.start()
    trader.fill("vehicle", vin=vin, year="2003", make="Honda", model="Accord", trim="")
    assert "/vehicle" in str(trader.page.url)
    assert any(message in error for error in trader.errors()), trader.errors()
    stored = store.values(trader.draft_id)["vin"]
    assert stored["value"] == vin and not stored["valid"]


@pytest.mark.parametrize(
    ("mileage", "message"),
    [("-1", "can't be negative"), ("10000000", "999,999 or less"), ("lots", "whole number")],
)
def test_impossible_mileage_gets_a_message(trader: Shopper, mileage: str, message: str) -> None:
    trader.start()
    trader.fill("vehicle", vin=ACCORD, year="", make="", model="Accord", trim="")
    trader.fill("condition", **{**CONDITION, "mileage": mileage})
    assert "/condition" in str(trader.page.url)
    assert any(message in error for error in trader.errors()), trader.errors()


def test_a_loan_needs_its_payoff(trader: Shopper) -> None:
    trader.start()
    trader.fill("vehicle", vin=ACCORD, year="", make="", model="Accord", trim="")
    trader.fill("condition", **CONDITION)
    trader.fill(
        "ownership", ownership="finance", lender="", payoff="", lease_months_left="", buyout=""
    )
    assert "/ownership" in str(trader.page.url)
    assert any("payoff" in error for error in trader.errors())


def test_the_request_promises_an_appraisers_offer_and_alerts_the_team(
    trader: Shopper, store: Store, settings: Any
) -> None:
    _through(trader)
    trader.fill("contact", **CONTACT)
    page = trader.page.text
    assert "/result" in str(trader.page.url)
    assert "will send your offer within 4 business hours" in page
    assert "2003 Honda Accord EX" in page
    draft = store.one("SELECT status, email FROM drafts WHERE id = :d", d=trader.draft_id)
    assert draft == {"status": "completed", "email": "dana@example.com"}
    kinds = [
        r["kind"]
        for r in store.rows("SELECT kind FROM outbox WHERE draft_id = :d", d=trader.draft_id)
    ]
    assert kinds == ["alert"]


def test_a_timeline_of_this_week_alerts_at_once(trader: Shopper, store: Store) -> None:
    _through(trader)
    trader.fill("contact", action="back", **{**CONTACT, "timeline": "this_week"})
    rows = store.rows("SELECT kind, dedupe_key FROM outbox WHERE draft_id = :d", d=trader.draft_id)
    assert [r["dedupe_key"] for r in rows] == [f"alert:{trader.draft_id}:this_week"]
    # Saying it again does not alert again.
    trader.fill(
        "ownership", payoff="4,200", ownership="finance", lender="", lease_months_left="", buyout=""
    )
    trader.fill("contact", action="back", **{**CONTACT, "timeline": "this_week"})
    assert len(store.rows("SELECT id FROM outbox WHERE draft_id = :d", d=trader.draft_id)) == 1


def _rules(settings: Any) -> None:
    async def change() -> None:
        db = Database(settings)
        try:
            async with db.write() as conn:
                row = (await conn.execute(dealers.select())).first()
                config = dict(row.config)
                config["trade_in"] = msgspec.to_builtins(
                    TradeIn(
                        mode="rules",
                        rules=TradeInRules(
                            values_by_age={5: Decimal(15000), 10: Decimal(9000), 25: Decimal(4000)}
                        ),
                    )
                )
                await conn.execute(dealers.update().values(config=config))
        finally:
            await db.dispose()

    run(change())


def test_a_dealer_rule_set_shows_an_instant_range_and_the_equity(
    client: TestClient[Any], settings: Any
) -> None:
    _rules(settings)
    trader = Shopper(client, widget="trade-in")
    _through(trader)
    trader.fill("contact", **CONTACT)
    page = trader.page.text
    # A 2003 car is older than 10 years: the 25-year value, $4,000. Expected miles at
    # 12,000 a year over its age; 148,500 is below that, worth up to a tenth more.
    age = __import__("datetime").date.today().year - 2003
    over = 148_500 - 12_000 * age
    value = Decimal(4000) - max(Decimal(over) * Decimal("0.08"), Decimal(-400))
    value = value * Decimal("0.90")
    low = (value * Decimal("0.92") / 50).to_integral_value(rounding="ROUND_DOWN") * 50
    high = (value * Decimal("1.08") / 50).to_integral_value(rounding="ROUND_DOWN") * 50
    assert f"${low:,.2f} to ${high:,.2f}" in page, page

    def shown(amount: Decimal) -> str:
        return f"-${-amount:,.2f}" if amount < 0 else f"${amount:,.2f}"

    assert f"{shown(low - 4200)} to {shown(high - 4200)}" in page


def test_see_what_this_does_to_my_payment_opens_a_linked_payment_draft(
    trader: Shopper, store: Store, client: TestClient[Any]
) -> None:
    _through(trader)
    trader.fill("contact", **CONTACT)
    trade_id = trader.draft_id
    trader.fill("result", action="carry")
    assert "/embed/demo-motors/payment/vehicle" in str(trader.page.url)
    payment = Shopper(client)
    payment.page = trader.page
    linked = store.one(
        "SELECT origin_id, email, widget FROM drafts WHERE id = :d", d=payment.draft_id
    )
    assert linked == {"origin_id": trade_id, "email": "dana@example.com", "widget": "payment"}
    values = store.values(payment.draft_id)
    assert values["trade_payoff"]["value"] == "4200.00"
    assert values["trade_payoff"]["step"] == "numbers"
    assert "trade_value" not in values  # no offer yet: nothing invented
    payment.fill("vehicle", **USED_CRV)
    payment.fill("plan", plan="finance", credit="good")
    assert payment.value("trade_payoff") == "4200.00"
