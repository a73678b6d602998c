"""Unsubscribe: `GET /u/{token}` shows one button; `POST /u/{token}` suppresses the address.

The POST is also RFC 8058's one-click unsubscribe, which mail clients send with no cookie and
the body `List-Unsubscribe=One-Click`: the signed token is the only authority needed, and the
request is idempotent. Links work for UNSUBSCRIBE_DAYS after the email.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath

from resume.errors import NotFound
from resume.i18n import gettext
from resume.queries import dealers as dealers_q
from resume.queries import outbox as outbox_q
from resume.queries import suppressions as suppressions_q
from resume.web.security import page_headers
from resume.web.services import Services, services

UNSUBSCRIBE_DAYS = 365


@get("/u/{token:str}")
async def unsubscribe_page(request: Request[Any, Any, Any], token: FromPath[str]) -> Response[str]:
    """Ask, with one button; a GET changes nothing (mail scanners open links)."""
    svc = services(request)
    dealer_name, address = await _recipient(svc, token)
    return _render(
        svc,
        "unsubscribe.html",
        done=False,
        dealer_name=dealer_name,
        address=mask(address),
        action=f"/u/{token}",
    )


@post("/u/{token:str}", status_code=200)
async def unsubscribe(request: Request[Any, Any, Any], token: FromPath[str]) -> Response[str]:
    """Suppress the address for this dealer and cancel what is queued for it."""
    # No per-address limit: mail providers send one-click POSTs from a few shared addresses,
    # and the signed token is all the authority needed.
    svc = services(request)
    link = svc.signer.verify_unsubscribe(token, max_age=UNSUBSCRIBE_DAYS * 86400)
    dealer_name, address = await _recipient(svc, token)
    async with svc.db.write() as conn:
        await suppressions_q.add(conn, link.dealer_id, address, "unsubscribe")
    return _render(
        svc,
        "unsubscribe.html",
        done=True,
        dealer_name=dealer_name,
        address=mask(address),
        action="",
    )


async def _recipient(svc: Services, token: str) -> tuple[str, str]:
    link = svc.signer.verify_unsubscribe(token, max_age=UNSUBSCRIBE_DAYS * 86400)
    async with svc.db.read() as conn:
        message = await outbox_q.get(conn, link.message_id)
        dealer = await dealers_q.get(conn, link.dealer_id)
    if message is None or dealer is None or message.dealer_id != dealer.id:
        raise NotFound(gettext("We couldn't find the email this link came from."))
    return dealer.name, message.to_addr


def mask(address: str) -> str:
    """Show enough of an address to recognise it, not enough to harvest it: p***@example.com."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"


def _render(svc: Services, template: str, **context: Any) -> Response[str]:
    html = svc.env.get_template(template).render(style_url="/style/-", **context)
    return Response(html, media_type="text/html", headers=page_headers())
