"""The soft-credit widget's consent step and its one pre-qualification.

"I agree" is accepted only with proof that the page showed the notice (a signed hash of its
text), is recorded with that text, and claims the draft's single pre-qualification in the
same transaction; the provider is asked after that commit, outside any transaction.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
from decimal import Decimal
from typing import Any

from litestar import Request, Response
from litestar.response import Redirect

from resume.calc.credit import Applicant, Prequal, provider_for
from resume.dealers import Dealer
from resume.errors import BadRequest, StepNotReached, TokenExpired, TokenInvalid
from resume.fields import clean
from resume.mail import alert_messages
from resume.queries import prequals as prequals_q
from resume.queries.drafts import DraftState
from resume.tokens import FormCredential, NoticeShown
from resume.web.page import Page
from resume.web.security import widget_headers
from resume.web.services import client_ip

log = logging.getLogger("resume.web")

# The longest a provider may take; a bureau that answers later counts as a failure.
PROVIDER_SECONDS = 30.0
# A pre-qualification still "running" after this was cut off (a process stopped mid-way).
STALLED = dt.timedelta(minutes=5)


def notice_text(dealer: Dealer) -> str:
    return dealer.config.credit.notice.replace("{dealer}", dealer.name)


def notice_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def consent_context(page: Page, state: DraftState | None) -> dict[str, Any]:
    """What the consent page shows: the notice and the proof that it was shown."""
    text = notice_text(page.dealer)
    shown = NoticeShown(state.id, notice_hash(text)) if state else None
    return {
        "notice_text": text,
        "notice_version": page.dealer.config.credit.notice_version,
        "notice_token": page.svc.signer.sign_notice(shown) if shown else "",
        "notice_url": f"/embed/{page.dealer.slug}/credit/notice",
    }


async def result_context(page: Page, state: DraftState | None) -> dict[str, Any]:
    if state is None:
        return {"prequal_status": None, "prequal": None}
    async with page.svc.db.read() as conn:
        found = await prequals_q.load(conn, state.id)
    status, result, started = found if found else (None, None, None)
    if status == "running" and started and dt.datetime.now(dt.UTC) - started > STALLED:
        status = "failed"  # cut off mid-way: say so rather than "refresh" forever
    return {"prequal_status": status, "prequal": result}


async def prequal_of(page: Page, state: DraftState) -> Prequal | None:
    return (await result_context(page, state))["prequal"]


async def agree(
    page: Page,
    request: Request[Any, Any, Any],
    form: dict[str, str],
    credential: FormCredential,
    index: int,
) -> Response[Any]:
    """Record the consent and run the draft's pre-qualification, once."""
    svc = page.svc
    token = form.pop("notice", "")
    if form:
        raise BadRequest("The agreement was sent with fields it doesn't take. Reload the page.")
    state = await page.state(credential)
    if state is None or index > state.reached:
        raise StepNotReached("Finish the steps before this one first.")
    try:
        shown = svc.signer.verify_notice(token, max_age=svc.settings.form_token_hours * 3600)
    except (TokenInvalid, TokenExpired):
        raise BadRequest(
            'We can only accept "I agree" from the page that shows the notice. Go back, read '
            'it, and press "I agree" under it.'
        ) from None
    text = notice_text(page.dealer)
    if shown.draft_id != state.id:
        raise BadRequest("This agreement belongs to another form. Start again from the site.")
    if shown.text_hash != notice_hash(text):
        raise BadRequest(
            "The notice changed since the page was shown. Go back, read it again, and press "
            '"I agree" under the new text.'
        )
    missing = _first_missing(page, state)
    if missing is not None:
        return _redirect(page, missing, state, check=True)
    now = dt.datetime.now(dt.UTC)
    result_index = index + 1
    claim = await svc.db.run_write(
        lambda conn: prequals_q.claim(
            conn,
            draft_id=state.id,
            dealer_id=page.dealer.id,
            widget=page.widget.slug,
            consent={
                "kind": "credit_check",
                "text_version": page.dealer.config.credit.notice_version,
                "text_hash": notice_hash(text),
                "text": text,
                "ip": client_ip(request)[:64],
                "user_agent": request.headers.get("user-agent", "")[:500],
            },
            provider=page.dealer.config.credit.provider,
            result_step=page.steps[result_index].name,
            result_index=result_index,
            now=now,
        )
    )
    if claim.claimed:
        await _run(page, state, now)
    else:
        log.info("pre-qualification already %s draft=%s; not run again", claim.status, state.id)
    fresh = await svc.autosave.state(state.id)
    return _redirect(page, page.steps[result_index].name, fresh)


async def _run(page: Page, state: DraftState, now: dt.datetime) -> None:
    """Ask the provider (outside any transaction) and store its answer. Either way the team
    hears at once: a shopper who agreed and got no estimate is promised a call."""
    try:
        applicant = applicant_of(page, state)
        provider = provider_for(page.dealer.config.credit.provider)
        async with asyncio.timeout(PROVIDER_SECONDS):
            result: Prequal | None = await provider.prequalify(
                applicant, page.dealer.config.finance
            )
    except Exception as exc:
        # Only the kind of failure is logged: a message or a traceback could quote the
        # applicant's answers, and nothing sensitive goes in a log.
        log.error("pre-qualification failed draft=%s error=%s", state.id, type(exc).__name__)
        result = None
    page.svc.wake_worker()
    alerts = alert_messages(
        page.svc.settings,
        page.dealer,
        state.id,
        "prequalified" if result is not None else "prequal_failed",
        has_contact=bool(state.email or state.phone),
    )
    await page.svc.db.run_write(
        lambda conn: prequals_q.finish(
            conn,
            draft_id=state.id,
            dealer_id=page.dealer.id,
            widget=page.widget.slug,
            result=result,
            now=dt.datetime.now(dt.UTC),
            alerts=alerts,
        )
    )


def applicant_of(page: Page, state: DraftState) -> Applicant:
    fields = page.widget.all_fields()

    def value(name: str) -> Any:
        stored = state.values.get(name)
        return clean(fields[name], stored.value if stored else "").value

    def years(name: str) -> Decimal | None:
        found = value(name)
        return Decimal(found) if found is not None else None

    return Applicant(
        credit_band=str(value("credit_band")),
        monthly_income=value("monthly_income"),
        housing_payment=value("housing_payment") or Decimal(0),
        employment=str(value("employment")),
        years_at_job=years("years_at_job"),
        years_at_address=years("years_at_address"),
    )


def _first_missing(page: Page, state: DraftState) -> str | None:
    """The first step before the consent with an answer missing or wrong, or None."""
    for step in page.steps:
        if step.kind == "consent":
            return None
        for field in step.fields:
            stored = state.values.get(field.name)
            if not clean(field, stored.value if stored else "").valid:
                return step.name
    return None


def _redirect(page: Page, step: str, state: DraftState | None, *, check: bool = False) -> Any:
    extra = {"check": "1"} if check else {}
    return Redirect(
        page.url(step, page.credential(state), **extra),
        status_code=303,
        headers=widget_headers(page.dealer.origins),
    )


def notice_page(page: Page, request: Request[Any, Any, Any]) -> Response[Any]:
    """The notice on a page of its own, to print or save (`?download=1`: a text file)."""
    text = notice_text(page.dealer)
    version = page.dealer.config.credit.notice_version
    if request.query_params.get("download") == "1":
        body = (
            f"{page.dealer.name}\n{page.dealer.address}\n\n"
            f"Written instructions for a soft credit inquiry (version {version})\n\n{text}\n"
        )
        return Response(
            body,
            media_type="text/plain; charset=utf-8",
            headers={
                **widget_headers(page.dealer.origins),
                "Content-Disposition": f'attachment; filename="credit-notice-{version}.txt"',
            },
        )
    return page.render("widget/notice.html", notice_text=text, notice_version=version)
