"""The shopper's steps: the first page, each step's page, and the POST that saves a step.

Every POST saves what was typed before anything else, then redirects (Post/Redirect/Get), so a
refresh never sends a form twice. The draft travels in the signed `d` field, never a cookie.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect

from resume import tradein
from resume.autosave import Save, View
from resume.errors import BadRequest, NotFound, StepNotReached
from resume.fields import Cleaned
from resume.mail import alert_messages
from resume.queries.drafts import DraftState
from resume.tokens import new_draft_id
from resume.web import credit, later
from resume.web.carry import carry
from resume.web.forms import parse_form
from resume.web.page import Page, page_for
from resume.web.security import widget_headers
from resume.web.services import client_ip
from resume.widgets import Step, decide, find_step, validate

log = logging.getLogger("resume.web")

PAGES = frozenset({"save", "saved", "showroom"})
FORM_ACTIONS = frozenset({"continue", "back", "save", "showroom", "agree", "carry"})


@get("/embed/{dealer:str}/{widget:str}")
async def first_step(
    request: Request[Any, Any, Any], dealer: FromPath[str], widget: FromPath[str]
) -> Response[str]:
    """Show the first step: the page a dealer puts in its iframe. Nothing is stored yet."""
    page = await page_for(request, dealer, widget)
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
    page = await page_for(request, dealer, widget)
    if step == "notice" and widget == "credit":
        return credit.notice_page(page, request)
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
        return later.show_page(page, step, state, request)
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
        **await page.extras(index, state),
    )


@post("/embed/{dealer:str}/{widget:str}/{step:str}", status_code=303)
async def save_step(
    request: Request[Any, Any, Any],
    dealer: FromPath[str],
    widget: FromPath[str],
    step: FromPath[str],
) -> Response[Any]:
    """Store every field of the step as typed, then send the shopper where they asked to go."""
    page = await page_for(request, dealer, widget)
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
        return await later.save_for_later(page, request, form, credential, age)
    if step in PAGES:
        raise NotFound("This page does not take a form.")
    index, current = find_step(page.steps, step)
    action = form.pop("action", "continue")
    if action not in FORM_ACTIONS and not action.startswith("goto:"):
        raise BadRequest("The form was sent with a button we don't know.")
    if current.kind == "consent":
        if action == "agree":
            return await credit.agree(page, request, form, credential, index)
        if action == "continue":
            raise BadRequest('To see your estimate, press "I agree" under the notice.')
        form.pop("notice", None)
    if action in {"agree", "carry"} and current.kind != "result":
        raise BadRequest("The form was sent with a button this step doesn't have.")
    _no_unknown_fields(current, form)
    results = validate(current.fields, form)
    if widget == "trade-in" and (check := tradein.CHECKS.get(step)):
        results = check(results)
    state = await page.state(credential)
    reached = state.reached if state else 0
    if index > reached:
        raise StepNotReached("Finish the steps before this one first.")
    if action == "carry":
        prequal = await credit.prequal_of(page, state) if state and widget == "credit" else None
        return await carry(page, state, prequal)
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
            **await page.extras(index, state),
        )
    target = move.target if move.target not in PAGES else None
    draft_id = credential.draft_id or new_draft_id()  # "" only in pages from before ids
    consent_field = current.field(later.CONSENT)
    save = Save(
        draft_id=draft_id,
        dealer_id=page.dealer.id,
        widget=widget,
        version=credential.version,
        new=credential.version == 0,
        step=step,
        step_index=index,
        values=results,
        sealed=frozenset(f.name for f in current.fields if f.sensitive),
        now=dt.datetime.now(dt.UTC),
        move_step=target,
        move_index=find_step(page.steps, target)[0] if target else index,
        completes=move.completes,
        resumed=credential.resumed,
        wants_showroom=move.target == "showroom",
        consent=later.new_consent(consent_field, results, state, request),
        alerts=_alerts(
            page,
            state,
            draft_id,
            move.target,
            move.completes or move.result,
            credential.resumed,
            results,
        ),
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


def _alerts(
    page: Page,
    state: DraftState | None,
    draft_id: str,
    target: str,
    finishes: bool,
    resumed: bool,
    results: dict[str, Cleaned],
) -> list[dict[str, Any]]:
    """The staff alert (and ADF lead) of a high-intent moment in this save, if there is one.
    Each moment is keyed per draft in the outbox, so a moment seen twice alerts once."""
    timeline = results.get("timeline")
    if target == "showroom" and not (state and state.wants_showroom):
        moment = "showroom"
    elif finishes and page.widget.slug == "trade-in":
        moment = "trade_in"
    elif finishes and (resumed or (state is not None and state.resumed_at is not None)):
        moment = "resumed_completed"
    elif timeline is not None and timeline.valid and timeline.value == "this_week":
        moment = "this_week"
    else:
        return []
    page.svc.wake_worker()
    has_contact = (state is not None and bool(state.email or state.phone)) or any(
        (typed := results.get(name)) is not None and typed.valid and bool(typed.value)
        for name in ("email", "phone")
    )
    return alert_messages(page.svc.settings, page.dealer, draft_id, moment, has_contact=has_contact)


def _no_unknown_fields(step: Step, form: dict[str, str]) -> None:
    known = {field.name for field in step.fields}
    unknown = sorted(set(form) - known)
    if unknown:
        shown = ", ".join(name[:40] for name in unknown[:3])
        raise BadRequest(
            f"The form had fields this step doesn't ask for ({shown}). "
            "Reload the page and try again."
        )
