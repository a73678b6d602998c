"""The widget stylesheet, in a dealer's colours."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.params import FromPath

from resume.errors import NotFound
from resume.web.services import services

CSS_HEADERS = {"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"}


@get("/style/{name:str}")
async def stylesheet(request: Request[Any, Any, Any], name: FromPath[str]) -> Response[str]:
    """Serve the widget stylesheet, in the dealer's colours when `name` is a dealer."""
    svc = services(request)
    theme = None
    if name != "-":
        try:
            theme = (await svc.dealer(name)).config.theme
        except NotFound:
            theme = None
    css = svc.env.get_template("widget/widget.css").render(theme=theme)
    return Response(css, media_type="text/css", headers=CSS_HEADERS)


@get("/dashboard/style.css")
async def dashboard_stylesheet(request: Request[Any, Any, Any]) -> Response[str]:
    """The staff dashboard's stylesheet."""
    css = services(request).env.get_template("dashboard/dashboard.css").render()
    return Response(css, media_type="text/css", headers=CSS_HEADERS)
