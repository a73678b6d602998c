"""One place turns exceptions into pages a person understands (style rule 3).

`errors/{status}.html` if there is one, else `errors/error.html`. A page inside a dealer's
iframe stays frameable by that dealer so the shopper sees the message, not a blank box.
"""

from __future__ import annotations

import logging
from typing import Any

from jinja2 import TemplateNotFound
from litestar import Request, Response
from litestar.exceptions import HTTPException

from resume import logs
from resume.errors import ResumeError, Revoked, TokenExpired
from resume.i18n import gettext, lazy
from resume.web.dashboard.staff_session import SignInNeeded, to_sign_in
from resume.web.security import page_headers, widget_headers

log = logging.getLogger("resume.web")

TITLES = {
    400: lazy("We couldn't read that form"),
    404: lazy("Page not found"),
    405: lazy("That doesn't work here"),
    413: lazy("That form was too large"),
    429: lazy("Too many requests"),
    500: lazy("Something went wrong on our side"),
}


def render_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Render any exception as a page with its status; never a traceback."""
    if isinstance(exc, SignInNeeded):
        return to_sign_in(request)
    if isinstance(exc, ResumeError):
        status, title, message = exc.status, exc.title, exc.message
    elif isinstance(exc, HTTPException):
        status = exc.status_code if 400 <= exc.status_code < 600 else 500
        title = str(TITLES.get(status) or gettext("Something went wrong"))
        message = _http_message(status)
    else:
        log.exception(
            "unhandled error on %s %s",
            request.method,
            request.scope.get("path_template", "(no route)"),
        )
        status, title, message = (
            500,
            str(TITLES[500]),
            gettext("Your answers saved so far are safe. Please try again in a moment."),
        )
    env = request.app.state.services.env
    try:
        template = env.select_template([f"errors/{status}.html", "errors/error.html"])
    except TemplateNotFound:  # pragma: no cover - the error page ships with the package
        return Response(message, status_code=status, media_type="text/plain")
    renew = None
    if isinstance(exc, TokenExpired | Revoked) and request.url.path.startswith("/r/"):
        renew = request.url.path.rstrip("/") + "/renew"
    html = template.render(
        status=status,
        title=title,
        message=message,
        renew_url=renew,
        style_url="/style/-",
        # The shopper can quote it; the log lines of this request carry it (resume.logs).
        request_id=logs.request_id(),
    )
    origins = getattr(request.state, "dealer_origins", None)
    headers = widget_headers(origins) if origins else page_headers()
    return Response(html, status_code=status, media_type="text/html", headers=headers)


def _http_message(status: int) -> str:
    if status == 404:
        return gettext(
            "There's nothing at this address. Check the link, or start again from the "
            "dealership's website."
        )
    if status == 405:
        return gettext("This address can't be used that way.")
    if status == 413:
        return gettext("The form sent more than we accept. Shorten your answers and try again.")
    return gettext("The request couldn't be handled. Please go back and try again.")
