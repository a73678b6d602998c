"""What a widget page's template is given: every page's context, a step's template names, and
a step's own context (its answers, their messages, its credential).

`resume.web.visit.Visit` renders through these, and so does the step benchmark's baseline.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from resume.dealers import Dealer
from resume.definitions import Step, Widget
from resume.fields import Cleaned
from resume.queries.drafts import DraftState


def widget_context(
    dealer: Dealer, widget: Widget, steps: tuple[Step, ...], languages: tuple[str, ...] = ()
) -> dict[str, Any]:
    """What every page of a widget is given: the dealer, the widget, its steps, the style,
    and the languages its switch offers."""
    return {
        "dealer": dealer,
        "widget": widget,
        "steps": steps,
        "style_url": f"/style/{dealer.slug}",
        "languages": languages,
    }


def step_templates(dealer: Dealer, widget: Widget, step: Step) -> tuple[str, ...]:
    """A step's template names, most specific first: the dealer's own, then ours."""
    return (
        f"widget/{dealer.slug}/{widget.slug}-{step.name}.html",
        f"widget/{widget.slug}-{step.name}.html",
        f"widget/{dealer.slug}/{step.kind}.html",
        f"widget/{step.kind}.html",
    )


def step_context(
    dealer: Dealer,
    widget: Widget,
    step: Step,
    index: int,
    state: DraftState | None,
    token: str,
    *,
    check: bool = False,
    posted: Mapping[str, Cleaned] | None = None,
    notice: str = "",
) -> dict[str, Any]:
    """What a step's template is given besides the dealer and the widget: the answers as
    stored (or as just typed), their messages and notes, and the form's credential.

    The step benchmark's baseline renders through this too, so the two cannot drift apart.
    """
    stored = state.values if state else {}
    values = {name: s.value for name, s in stored.items()}
    errors, notes = {}, {}
    for field in step.fields:
        saved = stored.get(field.name)
        # A wrong answer is always shown with its message; an empty required one only
        # after the shopper pressed Continue.
        if saved and not saved.valid and (check or saved.value.strip()):
            errors[field.name] = saved.error
        elif saved and saved.valid and saved.error:
            notes[field.name] = saved.error
    if posted:
        values.update({name: c.raw for name, c in posted.items()})
    return {
        "step": step,
        "index": index,
        "reached": state.reached if state else 0,
        "values": values,
        "errors": errors,
        "notes": notes,
        "token": token,
        "notice": notice,
        "action": f"/embed/{dealer.slug}/{widget.slug}/{step.name}",
        "draft": state,
        "source": "",
        "page_vehicle": "",
        "vehicle_card": None,
    }
