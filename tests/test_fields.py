"""Field types: typed text in, a value or a message a person understands out."""

from __future__ import annotations

from decimal import Decimal

import pytest

from resume.fields import Choice, Field, clean

MONEY = Field(
    name="price",
    type="money",
    label="Price",
    required=True,
    min=Decimal("500"),
    max=Decimal("1000000"),
)


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("32000", Decimal("32000")),
        ("32,000", Decimal("32000")),
        ("$1,234.50", Decimal("1234.50")),
        (" $ 25000.5 ", Decimal("25000.5")),
        ("1000000", Decimal("1000000")),
    ],
)
def test_money_accepts_what_people_type(typed: str, value: Decimal) -> None:
    cleaned = clean(MONEY, typed)
    assert cleaned.valid and cleaned.value == value
    assert cleaned.raw == typed  # stored exactly as typed


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("1e309", "Enter an amount in dollars"),
        ("NaN", "Enter an amount in dollars"),
        ("inf", "Enter an amount in dollars"),
        ("-0", "can't be negative"),
        ("-500", "can't be negative"),
        ("12,34", "Enter an amount in dollars"),
        ("1.234", "Enter an amount in dollars"),
        ("0x10", "Enter an amount in dollars"),
        ("１２３", "Enter an amount in dollars"),
        ("100", "at least $500"),
        ("2,000,000", "$1,000,000 or less"),
        ("", "Enter price"),
    ],
)
def test_money_refuses_with_a_message(typed: str, message: str) -> None:
    cleaned = clean(MONEY, typed)
    assert not cleaned.valid
    assert message in (cleaned.error or "")


def test_optional_empty_is_valid_and_none() -> None:
    field = Field(name="down_payment", type="money", label="Down payment")
    assert clean(field, "").valid and clean(field, "  ").value is None


def test_percent_and_integer_and_year() -> None:
    rate = Field(name="rate", type="percent", label="Rate", max=Decimal("40"))
    assert clean(rate, "6.9%").value == Decimal("6.9")
    assert "40% or less" in (clean(rate, "41").error or "")
    term = Field(name="term", type="integer", label="Term", min=Decimal("12"), max=Decimal("96"))
    assert clean(term, "60").value == 60
    assert "whole number" in (clean(term, "6o").error or "")
    assert "whole number" in (clean(term, "60.5").error or "")
    year = Field(name="year", type="year", label="Year")
    assert clean(year, "2024").value == 2024
    assert "four-digit" in (clean(year, "24").error or "")
    assert "between 1950" in (clean(year, "1899").error or "")


def test_email_is_normalised_without_network() -> None:
    field = Field(name="email", type="email", label="Email", required=True)
    assert clean(field, "Shopper@Example.COM").value == "Shopper@example.com"
    assert not clean(field, "shopper@").valid
    assert not clean(field, "shopper example.com").valid


def test_phone_is_stored_as_e164() -> None:
    field = Field(name="phone", type="phone", label="Phone")
    assert clean(field, "(217) 555-0142").value == "+12175550142"
    assert clean(field, "+1 217 555 0142").value == "+12175550142"
    assert "area code" in (clean(field, "555-0142").error or "")


def test_choice_and_checkbox() -> None:
    field = Field(
        name="plan",
        type="choice",
        label="Plan",
        required=True,
        choices=(Choice("finance", "Finance"), Choice("lease", "Lease")),
    )
    assert clean(field, "lease").value == "lease"
    assert "Choose one" in (clean(field, "rent").error or "")
    assert "Choose plan" in (clean(field, "").error or "")
    box = Field(name="consent", type="checkbox", label="I agree")
    assert clean(box, "yes").value is True and clean(box, "").value is False
    needed = Field(name="agree", type="checkbox", label="I agree", required=True)
    assert not clean(needed, "").valid


def test_text_too_long_or_with_control_characters() -> None:
    field = Field(name="make", type="text", label="Make", max_length=10)
    assert "10 characters or fewer" in (clean(field, "x" * 11).error or "")
    assert "special characters" in (clean(field, "Toy\x07ota").error or "")
    roomy = Field(name="make", type="text", label="Make", max_length=20)
    assert clean(roomy, "  Land   Rover ").value == "Land Rover"
