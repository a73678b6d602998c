"""Save and finish later, and the pages around it: the inbox notice and the showroom wish.

"Save and finish later" asks only for what is missing (an email) and a consent box that is
never ticked in advance; the email with the resume link is queued in the same transaction as
the save (design rule 9).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from resume import consent, outbox
from resume.autosave import Save
from resume.db import UNAVAILABLE
from resume.definitions import Step
from resume.engine import find_step, validate
from resume.errors import BadRequest, TooQuick, Unavailable, UnknownButton
from resume.fields import Cleaned, Field
from resume.i18n import gettext, lazy
from resume.queries import limits as limits_q
from resume.queries import suppressions as suppressions_q
from resume.queries.drafts import DraftState
from resume.web.forms import Posted
from resume.web.outcome import Go, Page
from resume.web.visit import Visit

CONSENT = consent.FOLLOWUP_FIELD
# A repeat within the hour, for the same draft and address, is the link already on its way:
# no second email, and nothing counted (issue #12).
LINK_REPEAT = dt.timedelta(hours=1)
# Links queued to one address from one client address in an hour, and (the setting
# rate_limit_links, 20 by default) links from one client address in all: a form can't flood an
# inbox, and nobody can use up another person's links from somewhere else. Kept in the
# database, so they hold across processes.
PER_RECIPIENT = 5
LIMITED = lazy(
    "We saved your email address, but we didn't send another link: several went to it from "
    "here in the last hour. Try again in an hour, or keep going now; your answers are saved."
)


def _return_step(visit: Visit, name: str | None, state: DraftState | None) -> Step:
    """The step to go back to: `name` if the draft has reached it, else where it is."""
    index, step = find_step(visit.steps, name, fallback=0)
    if step.name == name and index <= (state.reached if state else 0):
        return step
    if state is not None:
        return find_step(visit.steps, state.step, fallback=0)[1]
    return visit.steps[0]


def page(visit: Visit, name: str, state: DraftState | None, query: dict[str, str]) -> Page:
    """The save-for-later form, the "check your inbox" page, or the showroom page."""
    back = _return_step(visit, query.get("from"), state)
    token = visit.credential(state)
    context: dict[str, Any] = {
        "token": token,
        "back_step": back,
        "draft": state,
        "back_url": visit.url(back.name, token),
        "save_url": visit.url("save", token, **{"from": back.name}),
        "check": query.get("check") == "1",
        "blocked": query.get("blocked") == "1",
        "again": query.get("again") == "1",
        "limited": "",
    }
    if name == "save":
        stored = state.values if state else {}
        errors = {}
        for field in visit.widget.save_fields:
            saved = stored.get(field.name)
            if saved and not saved.valid and (context["check"] or saved.value.strip()):
                errors[field.name] = saved.error
        return Page(
            "widget/save.html",
            {
                "values": {n: s.value for n, s in stored.items()},
                "errors": errors,
                # Stored only together with its consent record (see save below).
                "has_consent": consent.ticked(stored.get(CONSENT)),
                "action": visit.form_action("save"),
                **context,
            },
        )
    if state is None:
        raise BadRequest(gettext("Start the form first."))
    if name == "saved":
        return Page("widget/saved.html", context)
    return Page("widget/showroom.html", context)


async def save(visit: Visit, posted: Posted) -> Go | Page:
    """Store the email (and the consent, if ticked) and queue the resume-link email. When the
    database can't take it, the page comes back as posted, with nothing claimed (a 503)."""
    typed = dict(posted.form)
    try:
        return await _save(visit, posted)
    except Unavailable:
        # Where the shopper came from is checked against the draft on the next press.
        back = find_step(visit.steps, typed.get("from"), fallback=0)[1]
        shown = page(visit, "save", None, {"from": back.name})
        values = {f.name: typed[f.name] for f in visit.widget.save_fields if f.name in typed}
        values.pop(CONSENT, None)  # a consent is given afresh, never shown back ticked
        token = visit.resign(posted.credential)
        return Page(
            shown.template,
            {
                **shown.context,
                "token": token,
                "back_step": back,
                "back_url": visit.url(back.name, token),
                "save_url": visit.url("save", token, **{"from": back.name}),
                "values": values,
                "limited": str(UNAVAILABLE),
            },
            status=503,
        )


async def _save(visit: Visit, posted: Posted) -> Go | Page:
    state = await visit.state(posted.credential)
    if state is None:
        raise BadRequest(gettext("Answer the first question before saving for later."))
    form = posted.form
    back = _return_step(visit, form.pop("from", None), state)
    action = form.pop("action", "send")
    if action not in {"send", "cancel"}:
        raise UnknownButton()
    if action == "send" and posted.age < visit.svc.settings.min_form_seconds:
        raise TooQuick(
            gettext("That was quicker than a person types. Go back and press the button again.")
        )
    save_fields = visit.widget.save_fields
    if set(form) - {f.name for f in save_fields}:
        raise BadRequest(
            gettext("The form had fields this page doesn't ask for. Reload and try again.")
        )
    results = validate(
        tuple(f for f in save_fields if f.name in form or f.type == "checkbox"), form
    )
    email = results.get("email")
    now = dt.datetime.now(dt.UTC)
    send = action == "send" and email is not None and email.valid
    consent_field = next((f for f in save_fields if f.name == CONSENT), None)
    agreed = new_consent(consent_field, results, state, posted.client) if send else None
    if agreed is None:
        # The box is stored only with its consent record: an unticked box here never withdraws
        # an earlier consent, and a ticked one with a wrong address is asked again.
        results.pop(CONSENT, None)
    recent = (
        state.link_sent_at is not None
        and now - state.link_sent_at < LINK_REPEAT
        and email is not None
        and email.value == state.email  # a corrected address always gets its email
    )
    mail = None
    blocked = send and email is not None and await _suppressed(visit, str(email.value))
    limited = False
    if send and not recent and not blocked and email is not None:
        limited = not await _allowed(visit, state, str(email.value), posted.client.ip, now)
        if not limited:
            # The same page sent twice (a double click) queues one email.
            mail = outbox.resume_link(
                visit.svc.settings, str(email.value), f"resume_link:{state.id}:{state.revision}"
            )
    saved = await visit.svc.autosave.save(
        Save(
            draft_id=state.id,
            dealer_id=visit.dealer.id,
            widget=visit.widget.slug,
            version=posted.credential.version,
            new=False,
            step="save",
            step_index=0,
            values=results,
            now=now,
            lang=visit.lang if visit.lang_asked else "",
            consent=agreed,
            outgoing=(mail,) if mail else (),
            link_requested=mail is not None,
        )
    )
    if mail is not None:
        visit.svc.wake_worker()
    if action == "cancel":
        return visit.go(back.name, saved)
    if blocked:
        return visit.go("save", saved, **{"from": back.name, "blocked": "1"})
    if limited:
        # Refused by a limit, yet saved like every post (rule 3): said here, not redirected.
        shown = page(visit, "save", saved, {"from": back.name})
        return Page(shown.template, {**shown.context, "limited": str(LIMITED)}, status=429)
    if send and recent:
        return visit.go("saved", saved, **{"from": back.name, "again": "1"})
    if send:
        return visit.go("saved", saved, **{"from": back.name})
    return visit.go("save", saved, **{"from": back.name, "check": "1"})


async def _allowed(
    visit: Visit, state: DraftState, address: str, client: str, now: dt.datetime
) -> bool:
    """Count a link about to be queued; False if a limit says it must not be. A page's link
    is counted once: the same page posted again (a double click, ten at once) queues the same
    email, keyed by the draft's revision, and must not use up the address's links."""
    hour = dt.timedelta(hours=1)
    address = address.lower()
    keys = (
        (f"link:{address}:{client}", PER_RECIPIENT),
        (f"link-from:{client}", visit.svc.settings.rate_limit_links),
    )
    async with visit.svc.db.write() as conn:
        for key, _ in keys:
            if await limits_q.blocked(conn, key, now):
                return False
        page = f"link-page:{state.id}:{state.revision}"
        seen = await conn.run_sync(limits_q.hit_many, {page: 1}, now, window=hour)
        if seen[page] > 1:
            return True
        refused = False
        for key, limit in keys:
            refused |= await limits_q.hit(
                conn, key, now, window=hour, limit=limit + 1, block_for=hour
            )
    return not refused


async def _suppressed(visit: Visit, address: str) -> bool:
    async with visit.svc.db.read() as conn:
        return await suppressions_q.is_suppressed(conn, visit.dealer.id, address)


def new_consent(
    field: Field | None,
    results: dict[str, Cleaned],
    state: DraftState | None,
    client: consent.Client,
) -> dict[str, Any] | None:
    """Return the consent record to store when the box is ticked now and was not before."""
    ticked = results.get(CONSENT)
    if field is None or ticked is None or ticked.value is not True:
        return None
    if state is not None and consent.ticked(state.values.get(CONSENT)):
        return None
    return consent.record("followup", field.label, client)
