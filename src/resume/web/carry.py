"""Carrying what one widget learnt into a new draft of another for the same shopper, linked
to the draft it came from ("See what this does to my payment").

What is carried, and into which widget, is the kind's (`Kind.carry`); the shopper's name and
contact go along, each checked as the other widget checks it when typed.
"""

from __future__ import annotations

import datetime as dt

from resume.autosave import Save
from resume.errors import BadRequest
from resume.fields import clean
from resume.i18n import gettext
from resume.queries import drafts as drafts_q
from resume.queries import funnel as funnel_q
from resume.queries.drafts import DraftState
from resume.tokens import new_draft_id
from resume.web.outcome import Go
from resume.web.visit import Visit

# Contact answers every widget asks the same way.
CONTACT = ("first_name", "email", "phone")


async def carry(visit: Visit, state: DraftState | None) -> Go:
    """Start a draft of the widget the kind carries into, and open it at its first step."""
    if state is None:
        raise BadRequest(gettext("Answer the questions before this one first."))
    carried = await visit.kind.carry(visit.scene, state)
    if carried is None:
        raise BadRequest(gettext("There is nothing to carry into the payment calculator yet."))
    into = Visit(
        visit.svc,
        visit.dealer,
        visit.svc.widget(carried.into, visit.dealer, visit.lang),
        lang=visit.lang,
        browser=visit.browser,
    )
    typed = dict(carried.typed)
    for name in CONTACT:
        stored = state.values.get(name)
        if stored is not None and stored.valid and stored.value.strip():
            typed[name] = stored.value
    existing = await _carried_before(visit, state.id, carried.into)
    if existing is not None:
        # A second press (or a double click) opens the draft the first one made.
        return into.go(into.steps[into.step_now(existing)].name, existing)
    fields = into.widget.all_fields()
    # Each value is checked as the other widget would check it had the shopper typed it.
    values = {name: clean(fields[name], text) for name, text in typed.items() if name in fields}
    now = dt.datetime.now(dt.UTC)
    saved = await visit.svc.autosave.save(
        Save(
            draft_id=new_draft_id(),
            dealer_id=visit.dealer.id,
            widget=into.widget.slug,
            version=0,
            new=True,
            step=into.steps[0].name,
            step_index=0,
            values=values,
            # Each value belongs to the step of the other widget that asks it.
            field_steps={name: into.widget.step_of(name) for name in values},
            origin_id=state.id,
            records_step=False,
            now=now,
            # The same shopper, so the same cohort's source, on the day it was carried.
            steps=into.step_names,
            day=funnel_q.cohort_day(now, visit.dealer.timezone),
            cohort_source=state.cohort_source,
            lang=visit.lang,
        )
    )
    return into.go(into.steps[0].name, saved)


async def _carried_before(visit: Visit, origin_id: str, widget: str) -> DraftState | None:
    async with visit.svc.db.read() as conn:
        found = await drafts_q.carried_from(conn, origin_id, widget)
    return await visit.svc.autosave.state(found) if found else None
