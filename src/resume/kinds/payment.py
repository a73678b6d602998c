"""The payment calculator: its terms from the dealer, the estimate its result shows, and what
staff, mail and the CRM are told of it. The math itself is resume.calc.payment.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import msgspec

from resume.adf import Parts, Quote
from resume.calc.payment import FinanceQuote, LeaseQuote, finance, lease
from resume.dealers import Dealer
from resume.definitions import Step, Widget
from resume.fields import Choice, clean
from resume.kinds.base import Facts, Kind, Scene, name_lines, valid_text, vehicle_label
from resume.queries.drafts import DraftState, Stored
from resume.templating import money

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


class Payment(Kind):
    slug = "payment"
    reads = frozenset(USED)
    topic = "this vehicle"
    talk_keys = frozenset({"monthly", "term", "down", "price", "plan", "rate", "trade"})

    def for_dealer(self, widget: Widget, dealer: Dealer) -> Widget:
        """Fill the term choices with the terms this dealer offers."""
        finance = dealer.config.finance
        terms = finance.offered_terms()
        listed = ", ".join(str(t) for t in terms[:-1]) + f" or {terms[-1]}"
        leases = ", ".join(str(t) for t in sorted(finance.residuals))
        return widget.with_choices(
            "terms",
            tuple(Choice(str(t), f"{t} months") for t in terms),
            f"{dealer.name} offers {listed} months; leases run {leases} months",
        )

    async def page_context(
        self, scene: Scene, step: Step, draft: DraftState | None
    ) -> dict[str, Any]:
        if step.kind != "result":
            return {}
        return {"estimate": estimate(scene.widget, scene.dealer, draft.values if draft else {})}

    def facts(self, widget: Widget, dealer: Dealer, draft: DraftState) -> Facts:
        found = estimate(widget, dealer, draft.values)
        quote = found.finance or found.lease
        return Facts(
            vehicle=found.vehicle,
            headline=found.vehicle if found.vehicle != "your vehicle" else "",
            subject=found.vehicle,
            lines=(("Vehicle", found.vehicle), *name_lines(draft.values)),
            estimate=found,
            adf=Parts(
                interest="lease" if found.lease else "buy",
                quote=None
                if quote is None
                else Quote(
                    price=quote.price,
                    method="lease" if found.lease else "finance",
                    down_payment=_typed_amount(draft.values, "down_payment"),
                    monthly=quote.monthly_payment,
                ),
                comments=() if quote else ("The payment estimate is not complete.",),
            ),
        )

    def talk_values(self, widget: Widget, dealer: Dealer, draft: DraftState) -> dict[str, str]:
        values = super().talk_values(widget, dealer, draft)
        found = estimate(widget, dealer, draft.values)
        quote = found.finance or found.lease
        typed_term = valid_text(draft.values, "term")
        values.update(
            monthly=money(quote.monthly_payment) if quote else "a payment not worked out yet",
            term=str(quote.term_months) if quote else (typed_term or "an unchosen number of"),
            down=money(_typed_amount(draft.values, "down_payment")),
            price=money(_typed_amount(draft.values, "price")),
            plan="lease" if found.lease else "finance",
            rate=(
                f"{found.finance.apr}% APR"
                if found.finance
                else "a lease money factor"
                if found.lease
                else "no rate yet"
            ),
            trade=money(_typed_amount(draft.values, "trade_value")),
        )
        return values


def _typed_amount(values: Mapping[str, Stored], name: str) -> Decimal:
    """A valid money answer as a number, as typed ("$3,000" is 3000); 0 if none."""
    stored = values.get(name)
    if stored is None or not stored.valid:
        return Decimal(0)
    return Decimal(" ".join(stored.value.split()).lstrip("$").replace(",", "") or "0")


KIND = Payment()
