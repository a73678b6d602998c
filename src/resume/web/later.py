"""Save and finish later, and the pages around it: the inbox notice and the showroom wish.

"Save and finish later" asks only for what is missing (an email) and a consent box that is
never ticked in advance; the email with the resume link is queued in the same transaction as
the save (design rule 9).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from litestar import Request, Response
from litestar.response import Redirect

from resume.autosave import Save
from resume.errors import BadRequest, TooQuick
from resume.fields import CHECKED, Cleaned, Field
from resume.mail import resume_link_message
from resume.queries import suppressions as suppressions_q
from resume.queries.drafts import DraftState
from resume.tokens import FormCredential
from resume.web.page import Page
from resume.web.security import widget_headers
from resume.web.services import client_ip
from resume.widgets import Step, validate

# The follow-up consent box, wherever a widget asks it (a contact step or "save for later").
CONSENT = "consent_followup"
LINK_RESEND_SECONDS = 60


def _return_step(page: Page, name: str | None, state: DraftState | None) -> Step:
    for index, step in enumerate(page.steps):
        if step.name == name and index <= (state.reached if state else 0):
            return step
    if state is not None:
        return next((s for s in page.steps if s.name == state.step), page.steps[0])
    return page.steps[0]


def show_page(
    page: Page, name: str, state: DraftState | None, request: Request[Any, Any, Any]
) -> Response[str]:
    back = _return_step(page, request.query_params.get("from"), state)
    token = page.credential(state)
    context: dict[str, Any] = {
        "token": token,
        "back_step": back,
        "draft": state,
        "back_url": page.url(back.name, token),
        "save_url": page.url("save", token, **{"from": back.name}),
        "check": request.query_params.get("check") == "1",
        "blocked": request.query_params.get("blocked") == "1",
    }
    if name == "save":
        stored = state.values if state else {}
        errors = {}
        for field in page.widget.save_fields:
            saved = stored.get(field.name)
            if saved and not saved.valid and (context["check"] or saved.value.strip()):
                errors[field.name] = saved.error
        # Stored only together with its consent record (see _save_for_later).
        has_consent = bool(
            (s := stored.get(CONSENT)) and s.valid and s.value.strip().lower() in CHECKED
        )
        return page.render(
            "widget/save.html",
            values={n: s.value for n, s in stored.items()},
            errors=errors,
            has_consent=has_consent,
            action=f"/embed/{page.dealer.slug}/{page.widget.slug}/save",
            **context,
        )
    if state is None:
        raise BadRequest("Start the form first.")
    if name == "saved":
        return page.render("widget/saved.html", **context)
    return page.render("widget/showroom.html", **context)


async def save_for_later(
    page: Page,
    request: Request[Any, Any, Any],
    form: dict[str, str],
    credential: FormCredential,
    age: float,
) -> Response[Any]:
    """Store the email (and the consent, if ticked) and queue the resume-link email."""
    state = await page.state(credential)
    if state is None:
        raise BadRequest("Answer the first question before saving for later.")
    back = _return_step(page, form.pop("from", None), state)
    action = form.pop("action", "send")
    if action not in {"send", "cancel"}:
        raise BadRequest("The form was sent with a button we don't know.")
    if action == "send" and age < page.svc.settings.min_form_seconds:
        raise TooQuick("That was quicker than a person types. Go back and press the button again.")
    known = {f.name for f in page.widget.save_fields}
    if set(form) - known:
        raise BadRequest("The form had fields this page doesn't ask for. Reload and try again.")
    fields = tuple(f for f in page.widget.save_fields if f.name in form or f.type == "checkbox")
    results = validate(fields, form)
    email = results.get("email")
    now = dt.datetime.now(dt.UTC)
    send = action == "send" and email is not None and email.valid
    consent_field = next((f for f in page.widget.save_fields if f.name == CONSENT), None)
    consent = new_consent(consent_field, results, state, request) if send else None
    if consent is None:
        # The box is stored only with its consent record: an unticked box here never withdraws
        # an earlier consent, and a ticked one with a wrong address is asked again.
        results.pop(CONSENT, None)
    recent = (
        state.link_sent_at is not None
        and (now - state.link_sent_at).total_seconds() < LINK_RESEND_SECONDS
        and email is not None
        and email.value == state.email  # a corrected address always gets its email
    )
    mail = None
    blocked = send and email is not None and await _suppressed(page, str(email.value))
    if send and not recent and not blocked and email is not None:
        page.svc.limit_recipient.hit(str(email.value).lower())
        # The same page sent twice (a double click) queues one email.
        mail = resume_link_message(
            page.svc.settings, str(email.value), f"resume_link:{state.id}:{state.revision}"
        )
    save = Save(
        draft_id=state.id,
        dealer_id=page.dealer.id,
        widget=page.widget.slug,
        version=credential.version,
        new=False,
        step="save",
        step_index=0,
        values=results,
        now=now,
        consent=consent,
        mail=mail,
        link_requested=mail is not None,
    )
    saved = await page.svc.autosave.save(save)
    if mail is not None:
        page.svc.wake_worker()
    token = page.credential(saved)
    if action == "cancel":
        target = page.url(back.name, token)
    elif blocked:
        target = page.url("save", token, **{"from": back.name, "blocked": "1"})
    elif send:
        target = page.url("saved", token, **{"from": back.name})
    else:
        target = page.url("save", token, **{"from": back.name, "check": "1"})
    return Redirect(target, status_code=303, headers=widget_headers(page.dealer.origins))


async def _suppressed(page: Page, address: str) -> bool:
    async with page.svc.db.read() as conn:
        return await suppressions_q.is_suppressed(conn, page.dealer.id, address)


def new_consent(
    field: Field | None,
    results: dict[str, Cleaned],
    state: DraftState | None,
    request: Request[Any, Any, Any],
) -> dict[str, Any] | None:
    """Return the consent record to store when the box is ticked now and was not before."""
    ticked = results.get(CONSENT)
    if field is None or ticked is None or ticked.value is not True:
        return None
    before = state.values.get(CONSENT) if state else None
    if before is not None and before.valid and before.value.strip().lower() in CHECKED:
        return None
    return _consent("followup", field.label, request)


def _consent(kind: str, text: str, request: Request[Any, Any, Any]) -> dict[str, Any]:
    digest = hashlib.sha256(text.encode()).hexdigest()
    return {
        "kind": kind,
        "text_version": digest[:12],
        "text_hash": digest,
        "text": text,
        "ip": client_ip(request)[:64],
        "user_agent": request.headers.get("user-agent", "")[:500],
    }
