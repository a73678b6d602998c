"""Resume links: `GET /r/{token}` reopens the draft where the shopper stopped.

Mail scanners open every link in a message, so the GET changes nothing but a log line; the
page swaps the link for a fresh form credential marked "resumed", and the shopper's next save
is what counts as a resume (issue #2, item 8).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect

from resume import i18n, logs, outbox
from resume.autosave import Save, View
from resume.errors import DraftGone, NotFound, Revoked, TokenExpired, TokenInvalid
from resume.i18n import gettext
from resume.queries import dealers as dealers_q
from resume.queries.drafts import DraftState
from resume.tokens import ResumeLink
from resume.web.outcome import Show
from resume.web.security import HEAD, page_headers
from resume.web.services import Services, client_ip, services
from resume.web.visit import Visit

log = logging.getLogger("resume.web")

LONGEST_LINK = 365 * 86400  # no dealer may set more; each dealer's own limit is checked after
RENEW_SECONDS = 600


@get("/r/{token:str}")
async def open_link(request: Request[Any, Any, Any], token: FromPath[str]) -> Response[str]:
    """Reopen the exact step with every saved value in place."""
    svc = services(request)
    link, signed_at = svc.signer.verify_resume(token, max_age=LONGEST_LINK)
    visit, state = await _draft(svc, request, link)
    age = dt.datetime.now(dt.UTC) - signed_at
    if age > dt.timedelta(days=visit.dealer.config.resume_link_days):
        raise TokenExpired(
            gettext("This link has expired."), payload=[link.dealer_id, link.draft_id, link.version]
        )
    index = visit.step_now(state)
    log.info("resume link opened draft=%s step=%s", state.id, visit.steps[index].name)
    if not request.scope.get(HEAD):  # a link scanner's HEAD is not a visit
        svc.autosave.record_view(
            View(
                state.dealer_id,
                state.widget,
                state.id,
                visit.steps[index].name,
                dt.datetime.now(dt.UTC),
                kind="link_opened",
            )
        )
    return await visit.render_step(
        Show(
            index=index,
            state=state,
            token=visit.credential(state, resumed=True),
            notice="Welcome back. Everything you entered is here; pick up where you left off.",
        )
    )


@post("/r/{token:str}/renew", status_code=303)
async def renew_link(request: Request[Any, Any, Any], token: FromPath[str]) -> Response[Any]:
    """Email a fresh link to the address on file, without saying what or whether it is."""
    svc = services(request)
    svc.limit_ip.hit(client_ip(request))
    try:
        link, _ = svc.signer.verify_resume(token, max_age=10 * LONGEST_LINK)
    except TokenExpired as exc:
        link = svc.signer.expired_resume(exc)  # type: ignore[assignment]
        if link is None:
            raise TokenInvalid() from None
    try:
        _, state = await _draft(svc, request, link, check_version=False)
    except NotFound:
        state = None
    if state is not None and state.email:
        now = dt.datetime.now(dt.UTC)
        recent = state.link_sent_at and (now - state.link_sent_at).total_seconds() < RENEW_SECONDS
        if not recent:
            await svc.autosave.save(
                Save(
                    draft_id=state.id,
                    dealer_id=state.dealer_id,
                    widget=state.widget,
                    version=state.version,
                    new=False,
                    step=state.step,
                    step_index=0,
                    values={},
                    now=now,
                    link_requested=True,
                    records_step=False,
                    outgoing=(
                        outbox.resume_link(
                            svc.settings,
                            state.email,
                            f"renew:{state.id}:{int(now.timestamp()) // RENEW_SECONDS}",
                        ),
                    ),
                )
            )
            svc.wake_worker()
    return Redirect("/r/sent", status_code=303, headers=page_headers())


@get("/r/sent")
async def renew_sent(request: Request[Any, Any, Any]) -> Response[str]:
    html = services(request).env.get_template("link_sent.html").render(style_url="/style/-")
    return Response(html, media_type="text/html", headers=page_headers())


async def _draft(
    svc: Services, request: Request[Any, Any, Any], link: ResumeLink, *, check_version: bool = True
) -> tuple[Visit, DraftState]:
    async with svc.db.read() as conn:
        dealer = await dealers_q.get(conn, link.dealer_id)
    state = await svc.autosave.state(link.draft_id)
    if dealer is None or state is None or state.dealer_id != dealer.id:
        raise DraftGone()
    request.state.dealer_origins = dealer.origins
    logs.bind_dealer(dealer.slug)
    if check_version and state.version != link.version:
        raise Revoked(gettext("This link was replaced by a newer one."))
    # The draft's own language: the link speaks it, whatever the browser (issue #11).
    offered = svc.catalog.languages(state.widget, dealer.config.languages)
    lang = state.lang if state.lang in offered else offered[0]
    i18n.set_language(lang)
    browser = request.headers.get("accept-language", "")
    visit = Visit(svc, dealer, svc.widget(state.widget, dealer, lang), lang=lang, browser=browser)
    return visit, state
