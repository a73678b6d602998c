"""The demo dealer page: a vehicle page of Demo Motors that embeds a widget from another
origin, exactly as a real dealer's site would."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, get
from litestar.response import Redirect

from resume import i18n
from resume.demo import SLUG as DEMO_SLUG
from resume.demo import demo_origin
from resume.errors import NotFound
from resume.i18n import gettext
from resume.web.security import page_headers
from resume.web.services import services

# The car this page shows, passed to the calculator as the README's vehicle page template
# passes a dealer's (issue #11, item 1): the first step is its card, not boxes to type it in.
# The page's own snippets, as a dealer writes them: the trade-in asks about the shopper's own
# car and the credit widget about none, so theirs pass no car.
CAR = {"condition": "new", "year": "2025", "make": "Toyota", "model": "RAV4", "trim": "XLE",
           "price": "34250", "stock": "DM2451"}  # fmt: skip
SNIPPET_CAR = {"payment": CAR}


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
        widget_url=widget_url(svc.settings.base_url, widget, lang),
        lang=lang,
        widget_title=svc.catalog.widgets[widget].title,
        widget=widget,
        widgets=svc.catalog.widgets,
        style_url="/style/-",
    )
    return Response(
        html, media_type="text/html", headers=page_headers(frame_src=svc.settings.base_url)
    )


def widget_url(base_url: str, widget: str, lang: str = "") -> str:
    """The address the demo page frames: the widget, the page's car for the calculator, and
    the page's language when it is not English."""
    query = dict(SNIPPET_CAR.get(widget, {}))
    if lang:
        query["lang"] = lang
    return f"{base_url}/embed/{DEMO_SLUG}/{widget}" + (f"?{urlencode(query)}" if query else "")
