"""The step POST, answered from the ASGI scope without Litestar's request and response
objects (issue #14, item 2).

A step is two requests, the POST that saves and the GET its 303 points at; the bare route
the benchmark compares us with is one. Litestar's routing, its `Request`, the handler's
signature model and the `Redirect` made a quarter of the server's Python in issue #14's
profile, paid on both. The POST's answer is a bodiless redirect, so it needs little of that:
here it is the same calls the framework route makes (`open_visit`, `check_post`,
`step_flow.save`), in the same order, with the 303 written as two ASGI messages.

Only a plain request is taken: a POST to `/embed/{dealer}/{widget}/{step}` with no root path
and a host header of letters, digits, dots, dashes, colons and brackets. Anything else, and
every other route, goes through Litestar as before (`resume.web.steps.save_step`), so the
framework keeps its answer to the odd cases (a trailing slash, a host it refuses).

What holds here as on the framework route, and where it comes from:
- the request id, the access log line, the metrics and the language of the moment:
  `resume.web.app.App.__call__`, around both routes;
- the security headers: the app's `before_send` hooks (`secure_headers`), around `send`;
- the widget's own headers (frame-ancestors, no-store): `Visit.headers`, as `Visit.respond`;
- the body's size limit: `Settings.max_body_bytes`, announced or streamed, a 413 page;
- the rate limits, the form's strict parsing, the signed credential (the form's only
  credential, and what makes a forged cross-site post useless: design rule 2), the
  honeypot: `resume.web.forms.check_post`;
- every error's page: `resume.web.errors.render_error`, given a Litestar `Request` made
  only then, so a 4xx reads exactly as before;
- a page shown back instead of a redirect (a post too quick, the database away): rendered
  by `Visit.respond` and sent as Litestar sends any response.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote

from litestar import Request

from resume.consent import Client
from resume.errors import PayloadTooLarge
from resume.i18n import gettext
from resume.web import step_flow
from resume.web.errors import render_error
from resume.web.forms import check_post
from resume.web.outcome import Go
from resume.web.visit import open_visit

if TYPE_CHECKING:
    from litestar import Litestar

    from resume.web.services import Services

# The framework route's template, for the access log and the metrics.
ROUTE = "/embed/{dealer}/{widget}/{step}"
_PATH = re.compile(r"/embed/([^/]+)/([^/]+)/([^/]+)")
# A subset of what Litestar accepts in a host header: anything else goes to Litestar.
_PLAIN_HOST = re.compile(rb"[0-9A-Za-z.\-:\[\]]*")
# What Litestar's Redirect leaves unquoted in a Location.
_URL_SAFE = "/#%[]=:;$&()+,!?*@'~"


class _ClientGone(Exception):
    """The client went away before its whole body arrived: nothing to save, no one to answer."""


def taken(scope: Any) -> tuple[str, str, str] | None:
    """The dealer, widget and step of a step POST this module answers; None for any other."""
    if scope["method"] != "POST" or scope.get("root_path"):
        return None
    found = _PATH.fullmatch(scope["path"])
    if found is None:
        return None
    host = next((value for name, value in scope["headers"] if name == b"host"), b"")
    if _PLAIN_HOST.fullmatch(host) is None:
        return None
    return found[1], found[2], found[3]


async def save_step(
    app: Litestar, svc: Services, names: tuple[str, str, str], scope: Any, receive: Any, send: Any
) -> None:
    """Store every field of the step as typed, then send the shopper where they asked to go."""
    dealer, widget, step = names
    scope["app"] = scope["litestar_app"] = app
    scope.setdefault("state", {})
    scope["path_template"] = ROUTE
    scope["path_params"] = {"dealer": dealer, "widget": widget, "step": step}
    send = _before_send(app, scope, send)
    headers: dict[str, str] = {}
    for name, value in scope["headers"]:
        headers.setdefault(name.decode("latin-1"), value.decode("latin-1"))
    query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    limit = svc.settings.max_body_bytes

    async def body() -> bytes:
        return await _body(receive, headers.get("content-length", ""), limit)

    try:
        visit = await open_visit(
            svc,
            scope,
            dealer,
            widget,
            browser=headers.get("accept-language", ""),
            asked=next((value for name, value in query if name == "lang"), None),
        )
        client = Client(
            scope["client"][0] if scope.get("client") else "unknown", headers.get("user-agent", "")
        )
        posted = await check_post(visit, client, body, headers.get("content-type", ""))
        outcome = await step_flow.save(visit, step, posted)
        # A page shown back (a post too quick, the database away) is made as on any route.
        page = None if isinstance(outcome, Go) else await visit.respond(outcome)
    except _ClientGone:
        return
    except Exception as exc:  # every error becomes its page, as Litestar's handler would
        request: Request[Any, Any, Any] = Request(scope, receive, send)
        await render_error(request, exc).to_asgi_response(None, request)(scope, receive, send)
        return
    if page is None:
        assert isinstance(outcome, Go)
        await _redirect(send, outcome.url, visit.headers())
    else:
        request = Request(scope, receive, send)
        await page.to_asgi_response(None, request)(scope, receive, send)


async def _body(receive: Any, announced: str, limit: int) -> bytes:
    """The request's body, refused with a 413 past `limit` bytes, announced or streamed."""
    if announced.isdigit() and int(announced) > limit:
        raise _too_large()
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _ClientGone()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _too_large()
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _too_large() -> PayloadTooLarge:
    # The words of Litestar's own 413 page (resume.web.errors), which the route gave before.
    return PayloadTooLarge(
        gettext("The form sent more than we accept. Shorten your answers and try again.")
    )


async def _redirect(send: Any, url: str, headers: dict[str, str]) -> None:
    raw = [
        (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()
    ]
    raw.append((b"location", quote(url, safe=_URL_SAFE).encode("latin-1")))
    raw.append((b"content-length", b"0"))
    await send({"type": "http.response.start", "status": 303, "headers": raw})
    await send({"type": "http.response.body", "body": b"", "more_body": False})


def _before_send(app: Litestar, scope: Any, send: Any) -> Any:
    """`send` through the app's before-send hooks, as Litestar wraps it for its routes."""
    hooks = app.before_send

    async def sending(message: Any) -> None:
        for hook in hooks:
            await hook(message, scope)
        await send(message)

    return sending
