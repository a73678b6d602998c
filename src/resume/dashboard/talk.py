"""What a rep should say next to a shopper (the talk track of the step and field they left
on, with their own figures), in English for the rep and, for a shopper who used the widget in
another language, in theirs too (issue #11, item 6)."""

from __future__ import annotations

import msgspec

from resume import i18n
from resume.catalog import Catalog
from resume.dealers import Dealer
from resume.definitions import Step, Widget
from resume.kinds.base import valid_text
from resume.queries.drafts import DraftState
from resume.queries.leads import Lead


class Track(msgspec.Struct, frozen=True):
    say: str = ""
    offer: str = "resume_link"
    # The same words in the shopper's language, and that language's name ("" for English).
    theirs: str = ""
    theirs_lang: str = ""
    language: str = ""


def track(catalog: Catalog, dealer: Dealer, lead: Lead, states: list[DraftState]) -> Track:
    """The talk track for where the shopper left (or is), with their figures."""
    draft = next((s for s in states if s.widget == lead.widget), states[-1] if states else None)
    if draft is None or draft.widget not in catalog.widgets:
        return Track()
    say, offer = _said(catalog, dealer, lead, draft, i18n.DEFAULT)
    if not say or draft.lang == i18n.DEFAULT or draft.lang not in catalog.translations:
        return Track(say, offer)
    with i18n.speaking(draft.lang):
        theirs, _ = _said(catalog, dealer, lead, draft, draft.lang)
    return Track(say, offer, theirs, draft.lang, i18n.IN_ENGLISH[draft.lang])


def _said(
    catalog: Catalog, dealer: Dealer, lead: Lead, draft: DraftState, lang: str
) -> tuple[str, str]:
    widget = catalog.for_dealer(draft.widget, dealer, lang)
    name = lead.exit_step if lead.exit_at is not None and lead.exit_step else draft.step
    step = step_named(widget, name) or widget.steps[0]
    field = lead.exit_field if lead.exit_at is not None else None
    found = step.talk_for(field)
    if found is None:
        return "", "resume_link"
    values = catalog.kind(draft.widget).talk_values(widget, dealer, draft)
    values["step"] = step.title
    if not valid_text(draft.values, "first_name") and lead.name:
        values["name"] = lead.name.split()[0]
    return found.say.format_map(_Missing(values)), found.offer


def step_named(widget: Widget | None, name: str | None) -> Step | None:
    if widget is None or not name:
        return None
    return next((s for s in widget.steps if s.name == name), None)


class _Missing(dict[str, str]):
    """Fill a talk track; a figure the kind could not give reads as "(not given)"."""

    def __missing__(self, key: str) -> str:
        return i18n.gettext("(not given)")
