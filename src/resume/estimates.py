"""A payment estimate from a draft's saved answers and the dealer's finance defaults."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

import msgspec

from resume.calc.payment import FinanceQuote, LeaseQuote, finance, lease
from resume.dealers import Dealer
from resume.fields import clean
from resume.queries.drafts import Stored
from resume.widgets import Widget

NEEDED = ("condition", "year", "make", "model", "price", "plan", "credit", "term")
USED = (*NEEDED, "down_payment", "trade_value", "trade_payoff")


class Missing(msgspec.Struct, frozen=True):
    step: str
    field: str
    label: str


class Estimate(msgspec.Struct, frozen=True):
    vehicle: str
    plan: str | None = None
    finance: FinanceQuote | None = None
    lease: LeaseQuote | None = None
    missing: tuple[Missing, ...] = ()

    @property
    def monthly_payment(self) -> Decimal | None:
        quote = self.finance or self.lease
        return quote.monthly_payment if quote else None


def vehicle_label(values: Mapping[str, Stored]) -> str:
    """Return "2024 Toyota RAV4 XLE" from whatever vehicle answers are there."""
    parts = [
        " ".join(values[name].value.split())
        for name in ("year", "make", "model", "trim")
        if name in values and values[name].valid and values[name].value.strip()
    ]
    return " ".join(parts) or "your vehicle"


def estimate(widget: Widget, dealer: Dealer, values: Mapping[str, Stored]) -> Estimate:
    """Compute the payment, or list the answers it still needs and where they are asked."""
    fields = widget.all_fields()
    steps = {f.name: s.name for s in widget.steps for f in s.fields}
    meaning: dict[str, object] = {}
    missing = []
    for name, field in fields.items():
        stored = values.get(name)
        cleaned = clean(field, stored.value if stored else "")
        if cleaned.valid:
            meaning[name] = cleaned.value
        wrong = not cleaned.valid and name in USED
        if wrong or (name in NEEDED and cleaned.value is None):
            # A mistyped down payment is not $0: it goes back to the shopper, not into the math.
            missing.append(Missing(steps.get(name, ""), name, field.label))
    label = vehicle_label(values)
    if missing:
        return Estimate(label, missing=tuple(missing))
    terms = dealer.config.finance

    def amount(name: str) -> Decimal:
        value = meaning.get(name)
        return value if isinstance(value, Decimal) else Decimal(0)

    money = {name: amount(name) for name in ("down_payment", "trade_value", "trade_payoff")}
    plan, band = str(meaning["plan"]), str(meaning["credit"])
    term = int(amount("term"))
    if plan == "lease":
        if term not in terms.residuals:
            offered = ", ".join(str(t) for t in sorted(terms.residuals))
            label = f"Term: leases here run {offered} months"
            return Estimate(label, missing=(Missing(steps["term"], "term", label),))
        quote = lease(
            price=amount("price"),
            term_months=term,
            residual_percent=terms.residual(term),
            money_factor=terms.money_factors[band],
            tax_rate=terms.tax_rate,
            doc_fee=terms.doc_fee,
            **money,
        )
        return Estimate(label, plan, lease=quote)
    quote_f = finance(
        price=amount("price"),
        term_months=term,
        apr=terms.apr(band, str(meaning["condition"])),
        tax_rate=terms.tax_rate,
        doc_fee=terms.doc_fee,
        trade_reduces_tax=terms.trade_reduces_tax,
        **money,
    )
    return Estimate(label, plan, finance=quote_f)
