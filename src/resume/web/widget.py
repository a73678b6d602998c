"""The shopper's pages: each step of a widget, Save and finish later, and the showroom wish.

Every POST saves what was typed before anything else, then redirects (Post/Redirect/Get), so a
refresh never sends a form twice. The draft travels in the signed `d` field, never a cookie.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect

from resume.autosave import Save, View
from resume.dealers import Dealer
from resume.errors import (
    BadRequest,
    NotFound,
    Revoked,
    StepNotReached,
    TokenExpired,
    TokenInvalid,
)
from resume.estimates import estimate
from resume.fields import CHECKED, Cleaned, Field
from resume.mail import new_message_id
from resume.queries.drafts import DraftState
from resume.tokens import FormCredential
from resume.web.forms import parse_form
from resume.web.security import widget_headers
from resume.web.services import Services, client_ip, services
from resume.widgets import Step, Widget, decide, find_step, validate

log = logging.getLogger("resume.web")

PAGES = frozenset({"save", "saved", "showroom"})
# The follow-up consent box, wherever a widget asks it (a contact step or "save for later").
CONSENT = "consent_followup"
FORM_ACTIONS = frozenset({"continue", "back", "save", "showroom"})
LINK_RESEND_SECONDS = 60


class Page:
    """Everything one request knows about where the shopper is."""

    def __init__(self, svc: Services, dealer: Dealer, widget: Widget) -> None:
        self.svc = svc
        self.dealer = dealer
        self.widget = widget
        self.steps = widget.steps_for(dealer.config.flags())

    def url(self, target: str, token: str, **extra: str) -> str:
        query = urlencode({"d": token, **extra})
        return f"/embed/{self.dealer.slug}/{self.widget.slug}/{target}?{query}"

    def credential(self, state: DraftState | None, *, resumed: bool = False) -> str:
        if state is None:
            # The draft's id is fixed now, before it exists (version 0): a first page posted
            # twice saves into one draft instead of two.
            return self.svc.signer.sign_form(
                FormCredential(self.dealer.id, self.widget.slug, secrets.token_urlsafe(16))
            )
        return self.svc.signer.sign_form(
            FormCredential(
                self.dealer.id, self.widget.slug, state.id, state.version, state.revision, resumed
            )
        )

    def verify(self, token: str) -> tuple[FormCredential, float]:
        hours = self.svc.settings.form_token_hours
        try:
            credential, age = self.svc.signer.verify_form(token, max_age=hours * 3600)
        except TokenExpired:
            raise TokenExpired(
                f"This page was open for more than {hours} hours, so it can't save any more. "
                "Everything saved before is kept: if you saved your answers with your email, "
                "open the link we sent you; otherwise start again from the dealership's website."
            ) from None
        if credential.dealer_id != self.dealer.id or credential.widget != self.widget.slug:
            raise TokenInvalid(
                "This form belongs to another page. Start again from the dealership's website."
            )
        return credential, age

    async def state(self, credential: FormCredential) -> DraftState | None:
        if credential.version == 0:
            # A first page: its draft exists only if the page was already posted once.
            found = (
                await self.svc.autosave.state(credential.draft_id) if credential.draft_id else None
            )
            return found if found and found.dealer_id == self.dealer.id else None
        state = await self.svc.autosave.state(credential.draft_id, credential.revision)
        if state is None:
            raise NotFound("We couldn't find these saved answers. They may have been deleted.")
        if state.version != credential.version:
            raise Revoked("This page was replaced by a newer link. Open the latest email from us.")
        return state

    def render(
        self, template: str | list[str], *, status: int = 200, **context: Any
    ) -> Response[str]:
        names = tuple(template) if isinstance(template, list) else (template,)
        html = self.svc.template(names).render(
            dealer=self.dealer,
            widget=self.widget,
            steps=self.steps,
            style_url=f"/style/{self.dealer.slug}",
            **context,
        )
        return Response(
            html,
            status_code=status,
            media_type="text/html",
            headers=widget_headers(self.dealer.origins),
        )

    def render_step(
        self,
        index: int,
        state: DraftState | None,
        token: str,
        *,
        check: bool = False,
        posted: dict[str, Cleaned] | None = None,
        notice: str = "",
        status: int = 200,
    ) -> Response[str]:
        step = self.steps[index]
        stored = state.values if state else {}
        values = {name: s.value for name, s in stored.items()}
        errors = {}
        for field in step.fields:
            saved = stored.get(field.name)
            # A wrong answer is always shown with its message; an empty required one only
            # after the shopper pressed Continue.
            if saved and not saved.valid and (check or saved.value.strip()):
                errors[field.name] = saved.error
        if posted:
            values.update({name: c.raw for name, c in posted.items()})
        slug, kind = self.dealer.slug, step.kind
        templates = [
            f"widget/{slug}/{self.widget.slug}-{step.name}.html",
            f"widget/{self.widget.slug}-{step.name}.html",
            f"widget/{slug}/{kind}.html",
            f"widget/{kind}.html",
        ]
        result = estimate(self.widget, self.dealer, stored) if kind == "result" else None
        return self.render(
            templates,
            status=status,
            step=step,
            index=index,
            reached=state.reached if state else 0,
            values=values,
            errors=errors,
            token=token,
            notice=notice,
            estimate=result,
            action=f"/embed/{self.dealer.slug}/{self.widget.slug}/{step.name}",
            draft=state,
        )


async def _page(request: Request[Any, Any, Any], dealer: str, widget: str) -> Page:
    svc = services(request)
    found = await svc.dealer(dealer)
    request.state.dealer_origins = found.origins
    return Page(svc, found, svc.widget(widget, found))


@get("/embed/{dealer:str}/{widget:str}")
async def first_step(
    request: Request[Any, Any, Any], dealer: FromPath[str], widget: FromPath[str]
) -> Response[str]:
    """Show the first step: the page a dealer puts in its iframe. Nothing is stored yet."""
    page = await _page(request, dealer, widget)
    page.svc.autosave.record_view(
        View(page.dealer.id, widget, None, page.steps[0].name, dt.datetime.now(dt.UTC))
    )
    return page.render_step(0, None, page.credential(None))


@get("/embed/{dealer:str}/{widget:str}/{step:str}")
async def show_step(
    request: Request[Any, Any, Any],
    dealer: FromPath[str],
    widget: FromPath[str],
    step: FromPath[str],
) -> Response[str]:
    """Show a step the draft has reached, with everything saved in place."""
    page = await _page(request, dealer, widget)
    token = request.query_params.get("d", "")
    if not token:
        if step == page.steps[0].name:
            return page.render_step(0, None, page.credential(None))
        raise BadRequest(
            "This page needs the link from the form. Start again from the dealership's website."
        )
    credential, _ = page.verify(token)
    state = await page.state(credential)
    if step in PAGES:
        return _show_page(page, step, state, request)
    index, _ = find_step(page.steps, step)
    reached = state.reached if state else 0
    if index > reached:
        raise StepNotReached("Finish the steps before this one first.")
    page.svc.autosave.record_view(
        View(page.dealer.id, widget, state.id if state else None, step, dt.datetime.now(dt.UTC))
    )
    # The credential in the address was signed by the save that redirected here, moments
    # ago: it serves as the page's own unless the draft has moved on since (another tab).
    current = state is None or (state.revision, state.version) == (
        credential.revision,
        credential.version,
    )
    return page.render_step(
        index,
        state,
        token if current else page.credential(state, resumed=credential.resumed),
        check=request.query_params.get("check") == "1",
    )


@post("/embed/{dealer:str}/{widget:str}/{step:str}", status_code=303)
async def save_step(
    request: Request[Any, Any, Any],
    dealer: FromPath[str],
    widget: FromPath[str],
    step: FromPath[str],
) -> Response[Any]:
    """Store every field of the step as typed, then send the shopper where they asked to go."""
    page = await _page(request, dealer, widget)
    svc = page.svc
    svc.limit_ip.hit(client_ip(request))
    form = parse_form(await request.body(), request.headers.get("content-type", ""))
    credential, age = page.verify(form.pop("d", ""))
    if credential.draft_id:
        svc.limit_draft.hit(credential.draft_id)
    if form.pop("comment_hp", ""):
        # Only a bot fills a field no person can see; drop it before it touches a draft.
        log.info("honeypot filled; submission dropped ip=%s", client_ip(request))
        raise BadRequest(
            "This form was filled in automatically, so we didn't save it. "
            "If you're a person, go back and try again."
        )
    if step == "save":
        return await _save_for_later(page, request, form, credential)
    if step in PAGES:
        raise NotFound("This page does not take a form.")
    index, current = find_step(page.steps, step)
    action = form.pop("action", "continue")
    if action not in FORM_ACTIONS and not action.startswith("goto:"):
        raise BadRequest("The form was sent with a button we don't know.")
    _no_unknown_fields(current, form)
    results = validate(current.fields, form)
    state = await page.state(credential)
    reached = state.reached if state else 0
    if index > reached:
        raise StepNotReached("Finish the steps before this one first.")
    move = decide(page.steps, index, reached, action, results)
    too_fast = age < svc.settings.min_form_seconds and action in {"continue", "save", "showroom"}
    if too_fast:
        # Quicker than a person reads: show the answers back unsaved for a second press.
        return page.render_step(
            index,
            state,
            page.credential(state),
            posted=results,
            status=422,
            notice="Please check your answers and press the button again.",
        )
    target = move.target if move.target not in PAGES else None
    consent_field = current.field(CONSENT)
    save = Save(
        draft_id=credential.draft_id or secrets.token_urlsafe(16),  # "" only in old pages
        dealer_id=page.dealer.id,
        widget=widget,
        version=credential.version,
        new=credential.version == 0,
        step=step,
        step_index=index,
        values=results,
        now=dt.datetime.now(dt.UTC),
        move_step=target,
        move_index=find_step(page.steps, target)[0] if target else index,
        completes=move.completes,
        resumed=credential.resumed,
        wants_showroom=move.target == "showroom",
        consent=_new_consent(consent_field, results, state, request),
    )
    saved = await svc.autosave.save(save)
    extra = {"check": "1"} if move.check else {}
    if move.target in PAGES:
        extra["from"] = step
    return Redirect(
        page.url(move.target, page.credential(saved), **extra),
        status_code=303,
        headers=widget_headers(page.dealer.origins),
    )


def _no_unknown_fields(step: Step, form: dict[str, str]) -> None:
    known = {field.name for field in step.fields}
    unknown = sorted(set(form) - known)
    if unknown:
        shown = ", ".join(name[:40] for name in unknown[:3])
        raise BadRequest(
            f"The form had fields this step doesn't ask for ({shown}). "
            "Reload the page and try again."
        )


def _return_step(page: Page, name: str | None, state: DraftState | None) -> Step:
    for index, step in enumerate(page.steps):
        if step.name == name and index <= (state.reached if state else 0):
            return step
    if state is not None:
        return next((s for s in page.steps if s.name == state.step), page.steps[0])
    return page.steps[0]


def _show_page(
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


async def _save_for_later(
    page: Page, request: Request[Any, Any, Any], form: dict[str, str], credential: FormCredential
) -> Response[Any]:
    """Store the email (and the consent, if ticked) and queue the resume-link email."""
    state = await page.state(credential)
    if state is None:
        raise BadRequest("Answer the first question before saving for later.")
    back = _return_step(page, form.pop("from", None), state)
    action = form.pop("action", "send")
    if action not in {"send", "cancel"}:
        raise BadRequest("The form was sent with a button we don't know.")
    known = {f.name for f in page.widget.save_fields}
    if set(form) - known:
        raise BadRequest("The form had fields this page doesn't ask for. Reload and try again.")
    fields = tuple(f for f in page.widget.save_fields if f.name in form or f.type == "checkbox")
    results = validate(fields, form)
    email = results.get("email")
    now = dt.datetime.now(dt.UTC)
    send = action == "send" and email is not None and email.valid
    consent_field = next((f for f in page.widget.save_fields if f.name == CONSENT), None)
    consent = _new_consent(consent_field, results, state, request) if send else None
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
    if send and not recent and email is not None:
        mail = {
            "kind": "resume_link",
            "context": {"from_step": back.name},
            "to_addr": str(email.value),
            "message_id": new_message_id(page.svc.settings),
            # The same page sent twice (a double click) queues one email.
            "dedupe_key": f"resume_link:{state.id}:{state.revision}",
        }
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
    elif send:
        target = page.url("saved", token, **{"from": back.name})
    else:
        target = page.url("save", token, **{"from": back.name, "check": "1"})
    return Redirect(target, status_code=303, headers=widget_headers(page.dealer.origins))


def _new_consent(
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
