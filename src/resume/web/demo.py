"""The demo dealer page: a vehicle page of Demo Motors that embeds a widget from another
origin, exactly as a real dealer's site would."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.response import Redirect

from resume import i18n
from resume.demo import SLUG as DEMO_SLUG
from resume.demo import demo_origin
from resume.errors import NotFound
from resume.i18n import gettext
from resume.web.security import page_headers
from resume.web.services import services


@get("/demo")
async def demo_page(request: Request[Any, Any, Any]) -> Response[str]:
    """A page that looks like a dealer's vehicle page and embeds the widget from elsewhere."""
    svc = services(request)
    origin = demo_origin(svc.settings.base_url)
    here = f"{request.url.scheme}://{request.url.netloc}"
    if here != origin and origin != svc.settings.base_url:
        return Redirect(origin + "/demo", status_code=302)
    widget = request.query_params.get("widget", "payment")
    if widget not in svc.catalog.widgets:
        raise NotFound(gettext("The demo page shows payment, trade-in or credit."))
    # A dealer's Spanish page passes lang=es to the widget, as the README's snippet shows.
    lang = request.query_params.get("lang", "")
    lang = lang if lang in i18n.LANGUAGES and lang != i18n.DEFAULT else ""
    html = svc.env.get_template("demo/vehicle.html").render(
        widget_url=f"{svc.settings.base_url}/embed/{DEMO_SLUG}/{widget}"
        + (f"?lang={lang}" if lang else ""),
        lang=lang,
        widget_title=svc.catalog.widgets[widget].title,
        widget=widget,
        widgets=svc.catalog.widgets,
        style_url="/style/-",
    )
    return Response(
        html, media_type="text/html", headers=page_headers(frame_src=svc.settings.base_url)
    )
