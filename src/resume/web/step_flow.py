"""What a step's GET and POST do: data in (a visit, a step, a posted form), an outcome out.

Every POST saves what was typed before anything else, then redirects (Post/Redirect/Get), so
a refresh never sends a form twice (design rule 3). What differs between widgets is asked of
the widget's kind; nothing here names a widget.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from resume import outbox
from resume.autosave import Save, View
from resume.db import UNAVAILABLE
from resume.definitions import Step
from resume.engine import Move, decide, find_step, validate
from resume.errors import BadRequest, NotFound, StepNotReached, Unavailable, UnknownButton
from resume.fields import Cleaned
from resume.i18n import gettext, lazy
from resume.outbox import Outgoing
from resume.queries import funnel as funnel_q
from resume.queries import leads as leads_q
from resume.queries.drafts import DraftState
from resume.tokens import new_draft_id
from resume.web import consent, save_later
from resume.web.carry import carry
from resume.web.forms import Posted
from resume.web.outcome import Outcome, Show
from resume.web.visit import Visit

PAGES = frozenset({"save", "saved", "showroom"})
FORM_ACTIONS = frozenset({"continue", "back", "save", "showroom", "agree", "carry"})
# Actions that carry their own value after a colon: a jump to a step ("goto:numbers"), a
# what-if payment on a result ("adopt:60:3000", the kind checks the rest), a switch of
# language ("lang:es": the step again in it, what was typed saved as Back saves it).
VALUED_ACTIONS = ("goto:", "adopt:", "lang:")
TOO_FAST = lazy(
    "That was quicker than we expect from a person, so we held this press back in case it "
    "came from an automated program. Everything you typed is still here: check it and press "
    "the button again to save it."
)


def first(visit: Visit) -> Show:
    """The first step, as the dealer's iframe shows it. Nothing is stored yet."""
    if not visit.head:
        visit.svc.autosave.record_view(
            View(visit.dealer.id, visit.widget.slug, None, visit.steps[0].name, _now())
        )
    return Show(index=0, state=None, token=visit.credential(None))


async def show(visit: Visit, step: str, token: str, query: dict[str, str]) -> Outcome:
    """A step the draft has reached (or a page of the widget), with everything saved in
    place. `query` holds the page's other parameters (check, from, blocked, download)."""
    if step == "notice" and visit.kind.notice(visit.dealer) is not None:
        return consent.notice_page(visit, download=query.get("download") == "1")
    if not token:
        if step == visit.steps[0].name:
            return Show(index=0, state=None, token=visit.credential(None))
        raise BadRequest(
            gettext(
                "This page needs the link from the form. Start again from the dealership's website."
            )
        )
    credential, _ = visit.verify(token)
    state = await visit.state(credential)
    if state is not None and "lang" not in query:
        visit.speak(state.lang)  # an address from before languages: the draft's own
    if step in PAGES:
        return save_later.page(visit, step, state, query)
    index, _ = find_step(visit.steps, step)
    if index > (state.reached if state else 0):
        raise StepNotReached()
    if not visit.head:
        visit.svc.autosave.record_view(
            View(visit.dealer.id, visit.widget.slug, state.id if state else None, step, _now())
        )
    # The credential in the address was signed by the save that redirected here, moments
    # ago: it serves as the page's own unless the draft has moved on since (another tab).
    current = state is None or (state.revision, state.version) == (
        credential.revision,
        credential.version,
    )
    return Show(
        index=index,
        state=state,
        token=token if current else visit.credential(state, resumed=credential.resumed),
        check=query.get("check") == "1",
    )


async def save(visit: Visit, step: str, posted: Posted) -> Outcome:
    """Store every field of the step as typed, then send the shopper where they asked to go."""
    if step == "save":
        return await save_later.save(visit, posted)
    if step in PAGES:
        raise NotFound(gettext("This page does not take a form."))
    index, current = find_step(visit.steps, step)
    form = posted.form
    action = form.pop("action", "continue")
    if action not in FORM_ACTIONS and not action.startswith(VALUED_ACTIONS):
        raise UnknownButton()
    adopting = action.startswith("adopt:")
    if action.startswith("lang:"):
        if action.removeprefix("lang:") not in visit.languages:
            raise UnknownButton()
        # Before the answers are checked, so their messages are in the new language too.
        visit.speak(action.removeprefix("lang:"))
        index, current = find_step(visit.steps, step)
    if current.kind == "consent":
        if action == "agree":
            return await consent.agree(visit, index, posted)
        if action == "continue":
            raise BadRequest(gettext('To see your estimate, press "I agree" under the notice.'))
        form.pop("notice", None)
    if (action in {"agree", "carry"} or adopting) and current.kind != "result":
        raise BadRequest(gettext("The form was sent with a button this step doesn't have."))
    _no_unknown_fields(current, form)
    results = visit.kind.check(step, validate(current.fields, form))
    try:
        state = await visit.state(posted.credential)
    except Unavailable:
        return _unsaved(visit, index, None, posted, results)
    reached = state.reached if state else 0
    if index > reached:
        raise StepNotReached()
    results = visit.kind.check_with_draft(visit.scene, step, results, state.values if state else {})
    if action == "carry":
        return await carry(visit, state)
    field_steps: dict[str, str] = {}
    if adopting:
        if state is None:
            raise BadRequest(gettext("Answer the questions before this one first."))
        # Answers of the numbers step, pressed on the result: stored under the step that
        # asks them, as if typed there, so the lead, the ADF and the mail see them.
        chosen = visit.kind.adopt(visit.scene, state, action.removeprefix("adopt:"))
        field_steps = {name: visit.widget.step_of(name) for name in chosen}
        results = {**results, **chosen}
    move = decide(visit.steps, index, reached, action, results)
    if posted.age < visit.svc.settings.min_form_seconds and (
        action in {"save", "showroom"} or (action == "continue" and autofillable(current))
    ):
        # Quicker than a person could manage: shown back unsaved, saying why, for a second
        # press. Continue is timed only where the browser fills the fields at once (contact
        # details), so a quick correct answer a person typed or picked goes through; Save
        # and the showroom wish lead to mail and staff alerts, so they are timed everywhere.
        return Show(
            index=index,
            state=state,
            token=visit.credential(state),
            posted=results,
            status=422,
            notice=str(TOO_FAST),
        )
    change = _save(visit, posted, index, current, results, state, move, field_steps)
    if (
        state is not None
        and state.lead_id is not None
        and (posted.credential.resumed or state.exit_at is not None)
    ):
        change.outgoing = (*change.outgoing, *await _came_back(visit, state, posted))
    try:
        saved = await visit.svc.autosave.save(change)
    except Unavailable:
        return _unsaved(visit, index, state, posted, results)
    if change.outgoing:
        visit.svc.wake_worker()  # after the commit: the worker finds the mail there
    extra = {"check": "1"} if move.check else {}
    if move.target in PAGES:
        extra["from"] = step
    return visit.go(move.target, saved, **extra)


def _unsaved(
    visit: Visit,
    index: int,
    state: DraftState | None,
    posted: Posted,
    results: dict[str, Cleaned],
) -> Show:
    """The step as it was posted, when the database could not take it: every answer still
    in the form, nothing claimed as saved, and a button to press again (issue #12)."""
    return Show(
        index=index,
        state=state,
        token=visit.resign(posted.credential),
        posted=results,
        status=503,
        notice=str(UNAVAILABLE),
    )


def _save(
    visit: Visit,
    posted: Posted,
    index: int,
    current: Step,
    results: dict[str, Cleaned],
    state: DraftState | None,
    move: Move,
    field_steps: dict[str, str],
) -> Save:
    """The change one step's POST makes to its draft; `field_steps` names the steps of
    answers posted from another step (a what-if adopted on the result)."""
    credential = posted.credential
    target = move.target if move.target not in PAGES else None
    draft_id = credential.draft_id or new_draft_id()  # "" only in pages from before ids
    consent_field = current.field(save_later.CONSENT)
    now = _now()
    return Save(
        draft_id=draft_id,
        dealer_id=visit.dealer.id,
        widget=visit.widget.slug,
        version=credential.version,
        new=credential.version == 0,
        step=current.name,
        step_index=index,
        values=results,
        sealed=frozenset(f.name for f in current.fields if f.sensitive),
        field_steps=field_steps,
        now=now,
        move_step=target,
        move_index=find_step(visit.steps, target)[0] if target else index,
        completes=move.completes,
        resumed=credential.resumed,
        wants_showroom=move.target == "showroom",
        consent=save_later.new_consent(consent_field, results, state, posted.client),
        source=visit.source if credential.version == 0 else {},
        steps=visit.step_names,
        day=funnel_q.cohort_day(now, visit.dealer.timezone) if credential.version == 0 else "",
        page_vehicle=visit.page_vehicle if credential.version == 0 else {},
        # A new draft takes the page's language; a draft keeps its own unless the shopper
        # named another (a switch, or `lang` on the page's address).
        lang=visit.lang if visit.lang_asked or state is None else "",
        outgoing=tuple(
            _alerts(
                visit,
                state,
                draft_id,
                move.target,
                move.completes or move.result,
                credential.resumed,
                results,
            )
        ),
    )


def _alerts(
    visit: Visit,
    state: DraftState | None,
    draft_id: str,
    target: str,
    finishes: bool,
    resumed: bool,
    results: dict[str, Cleaned],
) -> list[Outgoing]:
    """The staff alert (and ADF lead) of a high-intent moment in this save, if there is one.
    Each moment is keyed per draft in the outbox, so a moment seen twice alerts once."""
    kind = visit.kind
    if target == "showroom" and not (state and state.wants_showroom):
        moment = "showroom"
    elif finishes and kind.finish_moment:
        moment = kind.finish_moment
    elif finishes and (resumed or (state is not None and state.resumed_at is not None)):
        moment = "resumed_completed"
    else:
        moment = kind.answer_moment(results)
    if not moment:
        return []
    has_contact = (state is not None and bool(state.email or state.phone)) or any(
        (typed := results.get(name)) is not None and typed.valid and bool(typed.value)
        for name in ("email", "phone")
    )
    return outbox.alerts(
        visit.svc.settings, visit.dealer, draft_id, moment, has_contact=has_contact
    )


async def _came_back(visit: Visit, state: DraftState, posted: Posted) -> list[Outgoing]:
    """A shopper back from a link, or saving again after they left, is the warmest lead
    there is: their lead's owner hears at once (once per exit, and once per resume)."""
    assert state.lead_id is not None
    async with visit.svc.db.read() as conn:
        owner = await leads_q.owner_email(conn, state.lead_id)
    if owner is None or state.demo:
        return []
    key = f"came_back:{state.id}:{state.exits}:{int(posted.credential.resumed)}"
    return [
        Outgoing(
            kind="came_back",
            to_addr=owner,
            dedupe_key=key,
            message_id=outbox.new_message_id(visit.svc.settings),
        )
    ]


# Fields a browser fills from what it remembers (Chromium's autofill reads the autocomplete
# token, or the type of an email, phone or date of birth box); the rest a person types or picks.
_AUTOFILLED_TYPES = frozenset({"email", "phone", "birthdate"})


def autofillable(step: Step) -> bool:
    """Whether the browser could fill the step's fields at once, as a bot would (issue #11)."""
    return any(
        (field.autocomplete and field.autocomplete != "off") or field.type in _AUTOFILLED_TYPES
        for field in step.fields
    )


def _no_unknown_fields(step: Step, form: dict[str, Any]) -> None:
    known = {field.name for field in step.fields}
    unknown = sorted(set(form) - known)
    if unknown:
        shown = ", ".join(name[:40] for name in unknown[:3])
        raise BadRequest(
            gettext(
                "The form had fields this step doesn't ask for ({fields}). "
                "Reload the page and try again."
            ).format(fields=shown)
        )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
