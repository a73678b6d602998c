"""What staff are told about a draft, per widget: the facts an alert or an ADF lead carries.

Only answers the widget does not mark sensitive appear here: a credit draft's alert says that
the shopper pre-qualified and where to look, never their income, address or date of birth
(design rule 6).
"""

from __future__ import annotations

from typing import Any

from resume.dealers import Dealer
from resume.estimates import vehicle_label
from resume.queries.drafts import DraftState
from resume.tradein import appraise
from resume.widgets import Widget

TIMELINES = {"this_week": "This week", "this_month": "This month", "curious": "Just curious"}


def has_sensitive(widget: Widget) -> bool:
    return any(field.sensitive for field in widget.all_fields().values())


def summary(widget: Widget, dealer: Dealer, draft: DraftState) -> list[tuple[str, str]]:
    """Label and value lines for staff, in the order they read them."""
    lines: list[tuple[str, str]] = []
    name = " ".join(
        draft.values[n].value.strip()
        for n in ("first_name", "last_name")
        if n in draft.values and draft.values[n].valid and draft.values[n].value.strip()
    )
    if name:
        lines.append(("Name", name))
    if widget.slug == "trade-in":
        appraisal = appraise(widget, dealer, draft.values)
        lines.append(("Trade-in", appraisal.vehicle))
        for label, field in (("VIN", "vin"), ("Mileage", "mileage"), ("Condition", "grade")):
            value = _valid(draft, field)
            if value:
                lines.append((label, value.upper() if field == "vin" else value))
        ownership = _valid(draft, "ownership")
        if ownership:
            lines.append(("Ownership", ownership))
        if appraisal.payoff:
            lines.append(("Owed", f"${appraisal.payoff:,.2f}"))
        timeline = _valid(draft, "timeline")
        if timeline:
            lines.append(("Timeline", TIMELINES.get(timeline, timeline)))
    elif widget.slug == "credit":
        lines.append(
            ("Pre-qualification", "see the dashboard; personal details are not sent by email")
        )
    return lines


def _valid(draft: DraftState, name: str) -> str:
    stored = draft.values.get(name)
    return " ".join(stored.value.split()) if stored and stored.valid else ""


def subject_of(widget: Widget, draft: DraftState, estimate: Any) -> str:
    """A few words naming what the lead is about, for a subject line."""
    if widget.slug == "payment":
        return estimate.vehicle if estimate else "a vehicle"
    if widget.slug == "trade-in":
        return "trade-in: " + vehicle_label(draft.values)
    return "pre-qualification"
