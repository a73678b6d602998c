"""A step's two requests, the POST that saves and the GET its 303 points at, answered from
the ASGI scope without Litestar's request and response objects (issue #14, item 2).

The bare route the step benchmark compares us with is one request; a step of ours is two.
Litestar's routing, its `Request`, the handler's signature model and its response objects
made a quarter of the server's Python in issue #14's profile, paid on both. Here each is the
same calls the framework route makes (`open_visit`, then `check_post` and `step_flow.save` for
the POST, `step_flow.show` for the GET, then `Visit.respond`), in the same order, with the
answer written as two ASGI messages: a bodiless 303, or the page.

Only a plain request is taken: a GET (or a HEAD, which `resume.web.app.App` serves as its GET)
or a POST to `/embed/{dealer}/{widget}/{step}` with no root path and a host header of letters,
digits, dots, dashes, colons and brackets. Anything else, and every other route, goes through
Litestar as before (`resume.web.steps`), so the framework keeps its answer to the odd cases
(a trailing slash, a host it refuses).

What holds here as on the framework routes, and where it comes from:
- the request id, the access log line, the metrics and the language of the moment:
  `resume.web.app.App.__call__`, around every route;
- a HEAD's answer without its body, and nothing recorded: `App.__call__` and `Visit.head`;
- the security headers: the app's `before_send` hooks (`secure_headers`), around `send`;
- the widget's own headers (frame-ancestors, no-store): `Visit.headers`, as `Visit.respond`;
- the query's parameters, the first of a repeated name as Litestar's `query_params` gives;
- the body's size limit: `Settings.max_body_bytes`, announced or streamed, a 413 page;
- the rate limits, the form's strict parsing, the signed credential (the form's only
  credential, and what makes a forged cross-site post useless: design rule 2), the
  honeypot: `resume.web.forms.check_post`;
- every error's page: `resume.web.errors.render_error`, given a Litestar `Request` made
  only then, so a 4xx reads exactly as before;
- a page: `Visit.respond`'s response, its headers, type and length as Litestar sends them; a
  response of another kind (a file to save) is sent by Litestar itself.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote

from litestar import Request, Response

from resume.consent import Client
from resume.errors import PayloadTooLarge
from resume.i18n import gettext
from resume.web import step_flow
from resume.web.errors import render_error
from resume.web.forms import check_post
from resume.web.outcome import Go
from resume.web.visit import Visit, open_visit

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


class _Request:
    """What the two routes read of a request: its path's names, headers and query."""

    def __init__(self, app: Litestar, names: tuple[str, str, str], scope: Any, send: Any):
        self.dealer, self.widget, self.step = names
        scope["app"] = scope["litestar_app"] = app
        scope.setdefault("state", {})
        scope["path_template"] = ROUTE
        scope["path_params"] = {"dealer": self.dealer, "widget": self.widget, "step": self.step}
        self.scope = scope
        self.send = _before_send(app, scope, send)
        self.headers: dict[str, str] = {}
        for name, value in scope["headers"]:
            self.headers.setdefault(name.decode("latin-1"), value.decode("latin-1"))
        self.query: dict[str, str] = {}
        raw = scope.get("query_string", b"")
        if raw:
            for name, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True):
                self.query.setdefault(name, value)

    async def visit(self, svc: Services) -> Visit:
        return await open_visit(
            svc,
            self.scope,
            self.dealer,
            self.widget,
            browser=self.headers.get("accept-language", ""),
            asked=self.query.get("lang"),
        )


def taken(scope: Any) -> tuple[str, str, str] | None:
    """The dealer, widget and step of a step GET or POST this module answers; None for any
    other."""
    if scope["method"] not in ("GET", "POST") or scope.get("root_path"):
        return None
    found = _PATH.fullmatch(scope["path"])
    if found is None:
        return None
    host = next((value for name, value in scope["headers"] if name == b"host"), b"")
    if _PLAIN_HOST.fullmatch(host) is None:
        return None
    return found[1], found[2], found[3]


async def answer(
    app: Litestar, svc: Services, names: tuple[str, str, str], scope: Any, receive: Any, send: Any
) -> None:
    """Answer the step request `taken` found: the POST that saves, or the GET that shows."""
    request = _Request(app, names, scope, send)
    send = request.send
    try:
        if scope["method"] == "POST":
            visit, outcome = await save_step(svc, request, receive)
        else:
            visit, outcome = await show_step(svc, request)
        # A page (shown, or shown back: a post too quick, the database away) is made as on
        # any route.
        response = None if isinstance(outcome, Go) else await visit.respond(outcome)
    except _ClientGone:
        return
    except Exception as exc:  # every error becomes its page, as Litestar's handler would
        asked: Request[Any, Any, Any] = Request(scope, receive, send)
        await render_error(asked, exc).to_asgi_response(None, asked)(scope, receive, send)
        return
    if response is None:
        assert isinstance(outcome, Go)
        await _redirect(send, outcome.url, visit.headers())
    elif _plain_page(response):
        await _page(send, response)
    else:
        asked = Request(scope, receive, send)
        await response.to_asgi_response(None, asked)(scope, receive, send)


async def save_step(svc: Services, request: _Request, receive: Any) -> tuple[Visit, Any]:
    """Store every field of the step as typed; the outcome sends the shopper where they asked."""
    visit = await request.visit(svc)
    headers, limit = request.headers, svc.settings.max_body_bytes

    async def body() -> bytes:
        return await _body(receive, headers.get("content-length", ""), limit)

    client = request.scope.get("client")
    shopper = Client(client[0] if client else "unknown", headers.get("user-agent", ""))
    posted = await check_post(visit, shopper, body, headers.get("content-type", ""))
    return visit, await step_flow.save(visit, request.step, posted)


async def show_step(svc: Services, request: _Request) -> tuple[Visit, Any]:
    """A step the draft has reached, with everything saved in place."""
    visit = await request.visit(svc)
    query = dict(request.query)
    token = query.pop("d", "")
    return visit, await step_flow.show(visit, request.step, token, query)


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


def _encoded(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [
        (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()
    ]


async def _redirect(send: Any, url: str, headers: dict[str, str]) -> None:
    raw = _encoded(headers)
    raw.append((b"location", quote(url, safe=_URL_SAFE).encode("latin-1")))
    raw.append((b"content-length", b"0"))
    await send({"type": "http.response.start", "status": 303, "headers": raw})
    await send({"type": "http.response.body", "body": b"", "more_body": False})


def _plain_page(response: Response[Any]) -> bool:
    """Whether `response` is a page `_page` sends as Litestar would: HTML text, its own
    headers, no cookie and nothing to run after it."""
    return (
        type(response) is Response
        and response.media_type == "text/html"
        and isinstance(response.content, str)
        and not response.cookies
        and response.background is None
    )


async def _page(send: Any, response: Response[str]) -> None:
    """Send `response` as Litestar's `ASGIResponse` does: its headers, then its type and
    length (a HEAD's body is dropped by `resume.web.app.App`, as for every route)."""
    body = response.content.encode(response.encoding)
    raw = _encoded(response.headers)
    raw.append((b"content-type", f"text/html; charset={response.encoding}".encode("latin-1")))
    raw.append((b"content-length", str(len(body)).encode("latin-1")))
    await send({"type": "http.response.start", "status": response.status_code, "headers": raw})
    await send({"type": "http.response.body", "body": body, "more_body": False})


def _before_send(app: Litestar, scope: Any, send: Any) -> Any:
    """`send` through the app's before-send hooks, as Litestar wraps it for its routes."""
    hooks = app.before_send

    async def sending(message: Any) -> None:
        for hook in hooks:
            await hook(message, scope)
        await send(message)

    return sending
