"""Carrying a trade-in or a pre-qualification into a new payment draft for the same shopper,
linked to the draft it came from ("See what this does to my payment")."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from litestar import Response
from litestar.response import Redirect

from resume.autosave import Save
from resume.calc.payment import cents
from resume.errors import BadRequest
from resume.fields import clean
from resume.queries import drafts as drafts_q
from resume.queries.drafts import DraftState
from resume.tokens import new_draft_id
from resume.tradein import appraise
from resume.web.page import Page
from resume.web.security import widget_headers

# Contact answers every widget asks the same way.
CONTACT = ("first_name", "email", "phone")


async def carry(page: Page, state: DraftState | None, prequal: Any = None) -> Response[Any]:
    """Start a payment draft with what this draft knows, and open it at its first step."""
    if state is None:
        raise BadRequest("Answer the questions before this one first.")
    payment = Page(page.svc, page.dealer, page.svc.widget("payment", page.dealer))
    typed: dict[str, str] = {}
    steps: dict[str, str] = {}
    if page.widget.slug == "trade-in":
        appraisal = appraise(page.widget, page.dealer, state.values)
        if appraisal.carried_value is not None:
            typed["trade_value"] = _amount(appraisal.carried_value)
        if appraisal.payoff:
            typed["trade_payoff"] = _amount(appraisal.payoff)
        steps = {"trade_value": "numbers", "trade_payoff": "numbers"}
    elif page.widget.slug == "credit" and prequal is not None and prequal.outcome == "estimate":
        band = state.values.get("credit_band")
        if band is not None and band.valid:
            typed["credit"] = band.value
        if prequal.term_months in page.dealer.config.finance.offered_terms():
            typed["term"] = str(prequal.term_months)
        steps = {"credit": "numbers", "term": "numbers"}
    else:
        raise BadRequest("There is nothing to carry into the payment calculator yet.")
    for name in CONTACT:
        stored = state.values.get(name)
        if stored is not None and stored.valid and stored.value.strip():
            typed[name] = stored.value
            steps[name] = "contact"
    existing = await _carried_before(page, state.id)
    if existing is not None:
        # A second press (or a double click) opens the draft the first one made.
        index = next((i for i, s in enumerate(payment.steps) if s.name == existing.step), 0)
        return Redirect(
            payment.url(
                payment.steps[min(index, existing.reached)].name, payment.credential(existing)
            ),
            status_code=303,
            headers=widget_headers(page.dealer.origins),
        )
    fields = payment.widget.all_fields()
    # Each value is checked as the payment widget would check it had the shopper typed it.
    values = {name: clean(fields[name], text) for name, text in typed.items() if name in fields}
    save = Save(
        draft_id=new_draft_id(),
        dealer_id=page.dealer.id,
        widget="payment",
        version=0,
        new=True,
        step=payment.steps[0].name,
        step_index=0,
        values=values,
        # The payment widget asks for the same self-rated band and treats it as an ordinary
        # answer: carried, it is one (it reaches no email and no lead).
        field_steps=steps,
        origin_id=state.id,
        records_step=False,
        now=dt.datetime.now(dt.UTC),
    )
    saved = await page.svc.autosave.save(save)
    return Redirect(
        payment.url(payment.steps[0].name, payment.credential(saved)),
        status_code=303,
        headers=widget_headers(page.dealer.origins),
    )


async def _carried_before(page: Page, origin_id: str) -> DraftState | None:
    async with page.svc.db.read() as conn:
        found = await drafts_q.carried_from(conn, origin_id)
    return await page.svc.autosave.state(found) if found else None


def _amount(value: Decimal) -> str:
    return f"{cents(value):.2f}"
