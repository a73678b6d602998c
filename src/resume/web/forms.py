"""Strict parsing of url-encoded form bodies, and what a widget POST must pass before it
is saved.

Litestar's own form parsing is lenient (last duplicate wins, bad bytes replaced); a save must
instead refuse what it cannot store faithfully, with a message, before anything is written.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import msgspec

from resume import page_vehicle, source
from resume.consent import Client
from resume.errors import BadRequest, PayloadTooLarge
from resume.i18n import gettext
from resume.tokens import FormCredential
from resume.web.services import client_ip

if TYPE_CHECKING:
    from litestar import Request

    from resume.web.visit import Visit

log = logging.getLogger("resume.web")

MAX_FIELD_CHARS = 2000
MAX_FIELDS = 64


def parse_form(body: bytes, content_type: str) -> dict[str, str]:
    """Return the posted fields; duplicates, bad UTF-8 and NUL bytes are a 400."""
    if content_type.split(";")[0].strip().lower() != "application/x-www-form-urlencoded":
        raise BadRequest(gettext("This address only accepts a submitted form."))
    try:
        text = body.decode("ascii")
        pairs = parse_qsl(
            text,
            keep_blank_values=True,
            strict_parsing=False,
            encoding="utf-8",
            errors="strict",
            max_num_fields=MAX_FIELDS,
        )
    except UnicodeDecodeError:
        raise BadRequest(
            gettext("The form was sent with characters we can't read. Please retype your answers.")
        ) from None
    except ValueError:
        raise BadRequest(gettext("The form had far more fields than ours.")) from None
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:
            raise BadRequest(gettext("The form sent {name} twice.").format(name=repr(name[:40])))
        if "\x00" in value or "\x00" in name:
            raise BadRequest(gettext("The form contained a character we can't store."))
        if len(value) > MAX_FIELD_CHARS:
            raise PayloadTooLarge(gettext("One of the answers was far too long."))
        form[name] = value
    return form


class Posted(msgspec.Struct):
    """A widget form as posted: its fields (without the credential and the honeypot), the
    credential that says which draft it may save, the page's age, and who sent it."""

    form: dict[str, str]
    credential: FormCredential
    age: float
    client: Client


async def read_post(visit: Visit, request: Request[Any, Any, Any]) -> Posted:
    """Parse and check a widget POST before anything is saved (see `check_post`)."""
    client = Client(client_ip(request), request.headers.get("user-agent", ""))
    return await check_post(visit, client, request.body, request.headers.get("content-type", ""))


async def check_post(
    visit: Visit, client: Client, body: Callable[[], Awaitable[bytes]], content_type: str
) -> Posted:
    """Check a widget POST before anything is saved: the rate limits, the body (read by
    `body`, only once the client's limit allows), the credential, the honeypot."""
    svc = visit.svc
    svc.limit_ip.hit(client.ip)
    form = parse_form(await body(), content_type)
    credential, age = visit.verify(form.pop("d", ""))
    # The first page's note of where the shopper came from: checked again, never a field.
    carried = form.pop("source", "")
    vehicle = form.pop("page_vehicle", "")
    if credential.version == 0:
        visit.source = source.posted(carried)
        visit.page_vehicle = page_vehicle.posted(vehicle, visit.dealer.origins)
    if credential.draft_id and svc.limit_draft is not None:
        svc.limit_draft.hit(credential.draft_id)
    if form.pop("comment_hp", ""):
        # Only a bot fills a field no person can see; drop it before it touches a draft.
        log.info("honeypot filled; submission dropped ip=%s", client.ip)
        raise BadRequest(
            gettext(
                "This form was filled in automatically, so we didn't save it. "
                "If you're a person, go back and try again."
            )
        )
    return Posted(form, credential, age, client)
