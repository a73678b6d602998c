"""The mail the embedded default keeps on disk, inside the dashboard (issue #13, item 3):
parse, call resume.dashboard.mailroom, respond. /mail (web/mailbox.py) stays local-only."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, get
from litestar.params import FromPath

from resume.dashboard.mailroom import Mailroom
from resume.dashboard.operations import KINDS
from resume.errors import BadRequest
from resume.web.dashboard import staff_session as ss
from resume.web.security import page_headers
from resume.web.services import services

# The HTML part is shown in a frame of the message page, never anywhere else: no script, no
# request to anywhere (an image would tell its sender the mail was read), its own origin.
HTML_PART_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "form-action 'none'; base-uri 'none'; sandbox; frame-ancestors 'self'",
    "X-Frame-Options": "SAMEORIGIN",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
# The outbox page's names for kinds, and the staff reminders it doesn't filter by.
KIND_LABELS = {
    **KINDS,
    "came_back": "Shopper came back",
    "callback_due": "Callback due",
    "callback_missed": "Callback missed",
}


def _mailroom(request: Request[Any, Any, Any]) -> Mailroom:
    svc = services(request)
    return Mailroom(svc.settings, svc.db)


@get("/dashboard/mail")
async def mail_page(request: Request[Any, Any, Any]) -> Response[str]:
    svc = services(request)
    found = await ss.signed(request)
    query = {k: v for k, v in request.query_params.items() if v}
    before = _number(query["before"]) if "before" in query else None
    number = _number(query.get("page", "1")) or 1
    listed, more = await _mailroom(request).listed(found.account, before)
    return ss.render(
        svc,
        "dashboard/mail.html",
        found=found,
        section="mail",
        listed=listed,
        kinds=KIND_LABELS,
        number=number,
        everyone=ss.may(found).may_run_outbox,
        next_url="/dashboard/mail?" + urlencode({"before": listed[-1].kept.id, "page": number + 1})
        if more and listed
        else "",
    )


@get("/dashboard/mail/{name:str}")
async def mail_message(request: Request[Any, Any, Any], name: FromPath[str]) -> Response[str]:
    svc = services(request)
    found = await ss.signed(request)
    opened = await _mailroom(request).opened(found.account, name, "message", ss.client(request).ip)
    response = ss.render(
        svc,
        "dashboard/mail_message.html",
        found=found,
        section="mail",
        name=name,
        opened=opened,
        kinds=KIND_LABELS,
    )
    # The one frame this page holds is the message's own HTML part, from this origin.
    response.headers.update(page_headers(frame_src="'self'"))
    return response


@get("/dashboard/mail/{name:str}/html")
async def mail_html(request: Request[Any, Any, Any], name: FromPath[str]) -> Response[str]:
    """The HTML part on its own, sandboxed, for the frame of the message page."""
    found = await ss.signed(request)
    opened = await _mailroom(request).opened(found.account, name, "html", ss.client(request).ip)
    return Response(opened.html, media_type="text/html", headers=HTML_PART_HEADERS)


def _number(value: str) -> int:
    if not value.isdigit() or len(value) > 12:
        raise BadRequest("That isn't a number we can use to find a page of mail.")
    return int(value)


ROUTES: tuple[Any, ...] = (mail_page, mail_message, mail_html)
