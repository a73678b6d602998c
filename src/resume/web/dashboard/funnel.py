"""The funnel page (issue #10, item 2)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from litestar import Request, Response, get

from resume.dashboard.funnel import View, may_see
from resume.errors import NotFound
from resume.queries import dealers as dealers_q
from resume.web.dashboard import drill
from resume.web.dashboard import staff_session as ss
from resume.web.services import services

# The chart: one bar a row, the label above it, in a box narrow enough that its text stays
# readable when a phone shrinks it.
CHART_WIDTH = 360
ROW = 44


@get("/dashboard/funnel")
async def funnel_page(request: Request[Any, Any, Any]) -> Response[str]:
    """One widget's funnel for a range of days, one dealership or several, one source or all."""
    svc = services(request)
    found = await ss.signed(request)
    if not may_see(found.account.role):
        raise NotFound()
    query = {k: v for k, v in request.query_params.items() if v and k != "dealer"}
    # The form's boxes send `dealer` once each; the page's links carry them as `dealers=a,b`.
    if ticked := [s for s in request.query_params.getall("dealer", []) if s]:
        query["dealers"] = ",".join(ticked)
    async with svc.db.read() as conn:
        everyone = [
            d for d in await dealers_q.all_dealers(conn) if d.id in found.account.dealer_ids
        ]
    if not everyone:
        raise NotFound()
    picked = drill.chosen(query, everyone)
    zone = (picked or everyone)[0].timezone
    today = dt.datetime.now(ZoneInfo(zone)).date()
    slugs = await svc.funnel.busiest(picked or everyone, today)
    widget = query.get("widget", slugs[0])
    asked = svc.funnel.check(
        everyone,
        widget,
        drill.day(query.get("from", ""), "first"),
        drill.day(query.get("to", ""), "last"),
        picked,
        query.get("source"),
        today,
    )
    view = await svc.funnel.view(asked)
    return ss.render(
        svc,
        "dashboard/funnel.html",
        found=found,
        section="funnel",
        view=view,
        everyone=everyone,
        picked={d.slug for d in picked},
        widgets={s: svc.catalog.widgets[s] for s in slugs},
        chart=chart(view),
        query=query,
        widget_url={
            slug: "/dashboard/funnel?" + urlencode({**query, "widget": slug}) for slug in slugs
        },
    )


def chart(view: View) -> dict[str, Any]:
    """The bars of the funnel's chart: each point's share of the drafts started."""
    rows = [view.started]
    rows += [s.reached for s in view.steps if s.reached.n or view.started.n == 0]
    rows += [view.captured, view.completed, view.resumed, *view.downstream]
    top = max((r.n for r in rows), default=0) or 1
    bars = []
    for number, row in enumerate(rows):
        width = round((CHART_WIDTH - 70) * row.n / top, 1)
        bars.append(
            {
                "label": row.label,
                "n": row.n,
                "y": number * ROW,
                "width": max(width, 1.0) if row.n else 0.0,
                "downstream": row in view.downstream,
            }
        )
    return {"bars": bars, "width": CHART_WIDTH, "height": len(rows) * ROW}


ROUTES: tuple[Any, ...] = (funnel_page,)
