"""The payment calculator: its terms from the dealer, the estimate its result shows, and what
staff, mail and the CRM are told of it. The math itself is resume.calc.payment.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import msgspec

from resume.adf import Parts, Quote
from resume.calc.payment import FinanceQuote, LeaseQuote, finance, lease
from resume.dealers import Dealer
from resume.definitions import Step, Widget
from resume.errors import BadRequest
from resume.fields import Choice, Cleaned, clean, either
from resume.i18n import _, lazy
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


class Inputs(msgspec.Struct, frozen=True):
    """The checked answers a quote is made from, with the dealer's rates chosen for them."""

    plan: str
    term: int
    down: Decimal
    price: Decimal
    trade_value: Decimal
    trade_payoff: Decimal
    apr: Decimal  # finance
    money_factor: Decimal  # lease


class Cell(msgspec.Struct, frozen=True):
    """One what-if payment: a term and a down payment, and the button value that adopts them."""

    term: int
    down: Decimal
    monthly: Decimal
    # A lease's cash at signing (the down payment and the first month); None for finance.
    due_at_signing: Decimal | None
    action: str
    current: bool
    # As the cell shows them: to the dollar, so three fit across a 320 px phone.
    shown: str
    due_shown: str


class WhatIf(msgspec.Struct, frozen=True):
    """The result's grid: the plan's terms down the side, three down payments across."""

    lease: bool
    downs: tuple[Decimal, ...]
    # The down payments as the column heads show them: $3,000, or $2,500.50.
    heads: tuple[str, ...]
    rows: tuple[tuple[int, tuple[Cell, ...]], ...]


def estimate(widget: Widget, dealer: Dealer, values: Mapping[str, Stored]) -> Estimate:
    """Compute the payment, or list the answers it still needs and where they are asked."""
    found = _inputs(widget, dealer, values)
    if isinstance(found, Estimate):
        return found
    label = vehicle_label(values)
    quote = _quote(dealer, found, found.term, found.down)
    if isinstance(quote, LeaseQuote):
        return Estimate(label, found.plan, lease=quote)
    return Estimate(label, found.plan, finance=quote)


def _inputs(widget: Widget, dealer: Dealer, values: Mapping[str, Stored]) -> Inputs | Estimate:
    """The answers a quote needs, or the Estimate that lists what is missing."""
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

    plan, band = str(meaning["plan"]), str(meaning["credit"])
    term = int(amount("term"))
    if wrong_term := term_error(dealer, plan, term):
        # Refused on the numbers step itself; kept here for an answer stored before that, or
        # a plan changed after the term was chosen.
        shown = _("Term: {error}").format(error=wrong_term)
        return Estimate(label, missing=(Missing(steps["term"], "term", shown),))
    return Inputs(
        plan=plan,
        term=term,
        down=amount("down_payment"),
        price=amount("price"),
        trade_value=amount("trade_value"),
        trade_payoff=amount("trade_payoff"),
        apr=terms.apr(band, str(meaning["condition"])),
        money_factor=terms.money_factors[band],
    )


def _quote(dealer: Dealer, inputs: Inputs, term: int, down: Decimal) -> FinanceQuote | LeaseQuote:
    terms = dealer.config.finance
    trade = {"trade_value": inputs.trade_value, "trade_payoff": inputs.trade_payoff}
    if inputs.plan == "lease":
        return lease(
            price=inputs.price,
            down_payment=down,
            term_months=term,
            residual_percent=terms.residual(term),
            money_factor=inputs.money_factor,
            tax_rate=terms.tax_rate,
            doc_fee=terms.doc_fee,
            **trade,
        )
    return finance(
        price=inputs.price,
        down_payment=down,
        term_months=term,
        apr=inputs.apr,
        tax_rate=terms.tax_rate,
        doc_fee=terms.doc_fee,
        trade_reduces_tax=terms.trade_reduces_tax,
        **trade,
    )


# Down payment steps a shopper would try: the largest below a fifteenth of the price is used.
_STEPS = tuple(Decimal(n) for n in (500, 1000, 2000, 5000, 10000, 20000, 50000))


def down_payments(price: Decimal, own: Decimal) -> tuple[Decimal, ...]:
    """Three down payments around the shopper's own, a round step apart: never negative,
    never above the price (their own is always one of them, whatever it is)."""
    step = max((s for s in _STEPS if s <= price / 15), default=_STEPS[0])
    near = sorted(range(-2, 3), key=lambda k: (abs(k), k < 0))
    picked = [own + k * step for k in near if k == 0 or 0 <= own + k * step <= price]
    return tuple(sorted(picked[:3]))


def offered_for(dealer: Dealer, plan: str) -> tuple[int, ...]:
    """The terms the dealer offers for `plan`: its lease terms for a lease, its loan terms
    for a loan, every one of them while the plan is not chosen."""
    finance = dealer.config.finance
    if plan == "lease":
        return tuple(sorted(finance.residuals))
    if plan == "finance":
        return tuple(sorted(finance.terms))
    return finance.offered_terms()


def term_error(dealer: Dealer, plan: str, term: int) -> str:
    """Why `term` can't be used with `plan` at this dealer, or ""."""
    offered = offered_for(dealer, plan)
    if term in offered:
        return ""
    listed = either([str(t) for t in offered])
    if plan == "lease":
        message = _("Leases at {dealer} run {terms} months: choose one of them.")
    else:
        message = _("Loans at {dealer} run {terms} months: choose one of them.")
    return message.format(dealer=dealer.name, terms=listed)


def term_choices(dealer: Dealer, plan: str) -> tuple[Choice, ...]:
    return tuple(Choice(str(t), str(t)) for t in offered_for(dealer, plan))


def plan_terms(dealer: Dealer, inputs: Inputs) -> tuple[int, ...]:
    """The terms the dealer offers for the shopper's plan, and the shopper's own."""
    terms = dealer.config.finance
    offered = terms.residuals if inputs.plan == "lease" else terms.terms
    return tuple(sorted({*offered, inputs.term}))


def what_if(widget: Widget, dealer: Dealer, values: Mapping[str, Stored]) -> WhatIf | None:
    """The grid of payments the result offers to adopt, or None while the estimate is not
    complete (issue #11, item 3)."""
    inputs = _inputs(widget, dealer, values)
    if isinstance(inputs, Estimate):
        return None
    downs = down_payments(inputs.price, inputs.down)
    rows = []
    for term in plan_terms(dealer, inputs):
        cells = []
        for down in downs:
            quote = _quote(dealer, inputs, term, down)
            due = quote.due_at_signing if isinstance(quote, LeaseQuote) else None
            cells.append(
                Cell(
                    term=term,
                    down=down,
                    monthly=quote.monthly_payment,
                    due_at_signing=due,
                    action=f"{ADOPT}{term}:{_plain(down)}",
                    current=term == inputs.term and down == inputs.down,
                    shown=dollars(quote.monthly_payment),
                    due_shown=dollars(due) if due is not None else "",
                )
            )
        rows.append((term, tuple(cells)))
    heads = tuple(money(d).removesuffix(".00") for d in downs)
    return WhatIf(inputs.plan == "lease", downs, heads, tuple(rows))


def dollars(amount: Decimal) -> str:
    """An amount to the dollar, halves up: $612 for $611.50 (design rule 10)."""
    return "$" + f"{amount.quantize(Decimal(1), rounding=ROUND_HALF_UP):,}"


# A what-if button's value: "adopt:60:3000" (a term in months, a down payment in dollars with
# no sign, commas or spaces, cents optional). Anything else is refused before it is stored.
ADOPT = "adopt:"
_ADOPTED = re.compile(r"([1-9][0-9]{0,2}):(0|[1-9][0-9]{0,6})(\.[0-9]{2})?")


def _plain(amount: Decimal) -> str:
    """An amount as a button carries it: 3000, or 2500.50 when it has cents."""
    whole = amount.to_integral_value()
    return str(int(whole)) if amount == whole else f"{amount:.2f}"


def adopted(
    widget: Widget, dealer: Dealer, values: Mapping[str, Stored], choice: str
) -> dict[str, Cleaned]:
    """The term and down payment a what-if button stands for, each checked as if typed on
    the numbers step; a value the page could not have offered is a BadRequest."""
    match = _ADOPTED.fullmatch(choice)
    if match is None:
        raise BadRequest(_("That payment choice wasn't one we offered. Pick one from the table."))
    inputs = _inputs(widget, dealer, values)
    if isinstance(inputs, Estimate):
        raise BadRequest(
            _(
                "Your numbers need checking before you can try other payments. "
                "Go back to them with “Change my numbers”."
            )
        )
    term = int(match.group(1))
    if term not in plan_terms(dealer, inputs):
        offered = ", ".join(str(t) for t in plan_terms(dealer, inputs))
        if inputs.plan == "lease":
            message = _("Leases at {dealer} run {terms} months, not {term}.")
        else:
            message = _("Loans at {dealer} run {terms} months, not {term}.")
        raise BadRequest(message.format(dealer=dealer.name, terms=offered, term=term))
    fields = widget.all_fields()
    typed = {"term": str(term), "down_payment": match.group(2) + (match.group(3) or "")}
    checked = {name: clean(fields[name], text) for name, text in typed.items()}
    wrong = [cleaned.error for cleaned in checked.values() if cleaned.error]
    if wrong:
        raise BadRequest(_("That payment choice can't be used: {reason}").format(reason=wrong[0]))
    return checked


class Payment(Kind):
    slug = "payment"
    reads = frozenset(USED)
    topic = lazy("this vehicle")
    talk_keys = frozenset({"monthly", "term", "down", "price", "plan", "rate", "trade"})

    def for_dealer(self, widget: Widget, dealer: Dealer) -> Widget:
        """Fill the term choices with every term this dealer offers; the numbers step shows
        those of the shopper's plan (page_context) and refuses the others (check_with_draft)."""
        return widget.with_choices("terms", term_choices(dealer, ""), "")

    def check_with_draft(
        self, scene: Scene, step: str, results: dict[str, Cleaned], values: Mapping[str, Stored]
    ) -> dict[str, Cleaned]:
        """A term the dealer doesn't offer for the plan chosen on the step before is refused
        here, on the step that asks it, not first on the result (issue #11, item 2)."""
        term = results.get("term")
        if term is None or not term.valid or not isinstance(term.value, Decimal | int):
            return results
        plan = _valid_plan(values)
        if plan and (wrong := term_error(scene.dealer, plan, int(term.value))):
            return {**results, "term": Cleaned(term.raw, error=wrong)}
        return results

    async def page_context(
        self, scene: Scene, step: Step, draft: DraftState | None
    ) -> dict[str, Any]:
        values = draft.values if draft else {}
        if step.field("term") is not None:
            # The terms of the shopper's own plan: a short set of choices (issue #11).
            return {"field_choices": {"term": term_choices(scene.dealer, _valid_plan(values))}}
        if step.kind != "result":
            return {}
        return {
            "estimate": estimate(scene.widget, scene.dealer, values),
            "what_if": what_if(scene.widget, scene.dealer, values),
        }

    def adopt(self, scene: Scene, draft: DraftState, choice: str) -> dict[str, Cleaned]:
        """A what-if cell pressed on the result: its term and down payment, as typed."""
        return adopted(scene.widget, scene.dealer, draft.values, choice)

    def facts(self, widget: Widget, dealer: Dealer, draft: DraftState) -> Facts:
        found = estimate(widget, dealer, draft.values)
        quote = found.finance or found.lease
        return Facts(
            vehicle=found.vehicle,
            headline=found.vehicle if found.vehicle != _("vehicle") else "",
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
            monthly=money(quote.monthly_payment) if quote else _("a payment not worked out yet"),
            term=str(quote.term_months) if quote else (typed_term or _("an unchosen number of")),
            down=money(_typed_amount(draft.values, "down_payment")),
            price=money(_typed_amount(draft.values, "price")),
            plan=_("lease") if found.lease else _("finance"),
            rate=(
                f"{found.finance.apr}% APR"
                if found.finance
                else _("a lease money factor")
                if found.lease
                else _("no rate yet")
            ),
            trade=money(_typed_amount(draft.values, "trade_value")),
        )
        return values


def _valid_plan(values: Mapping[str, Stored]) -> str:
    plan = valid_text(values, "plan")
    return plan if plan in {"finance", "lease"} else ""


def _typed_amount(values: Mapping[str, Stored], name: str) -> Decimal:
    """A valid money answer as a number, as typed ("$3,000" is 3000); 0 if none."""
    stored = values.get(name)
    if stored is None or not stored.valid:
        return Decimal(0)
    return Decimal(" ".join(stored.value.split()).lstrip("$").replace(",", "") or "0")


KIND = Payment()
