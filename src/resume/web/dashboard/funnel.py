"""The funnel page (issue #10, item 2), and the lead list's filter for the leads behind one of
its figures (`cohort_filter`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from litestar import Request, Response, get

from resume.dashboard.funnel import View, may_see
from resume.dealers import Dealer
from resume.errors import BadRequest, NotFound
from resume.queries import dealers as dealers_q
from resume.queries.funnel import STAGES
from resume.queries.leads import Cohort
from resume.web.dashboard import staff_session as ss
from resume.web.services import Services, services

POINTS = frozenset({"started", "captured", "reached", "exited", "resumed", "completed", *STAGES})
# The chart: one bar a row, the label above it, in a box narrow enough that its text stays
# readable when a phone shrinks it.
CHART_WIDTH = 360
ROW = 44


def day(value: str, what: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise BadRequest(f"The {what} day should look like 2026-12-01.") from None


def chosen(query: Mapping[str, str], everyone: Sequence[Dealer]) -> tuple[Dealer, ...]:
    """The dealerships a page is narrowed to (`dealers=a,b`), each one the account's own;
    none chosen: all of them. Any other slug is a 404, as another dealership's id is."""
    asked = [s for s in query.get("dealers", "").split(",") if s]
    slugs = {d.slug: d for d in everyone}
    if len(asked) > len(slugs) or any(s not in slugs for s in asked):
        raise NotFound("There is no such dealership here.")
    return tuple(slugs[s] for s in dict.fromkeys(asked))


def cohort_filter(
    svc: Services, query: Mapping[str, str], dealers: Sequence[Dealer]
) -> Cohort | None:
    """The funnel figure a lead list's address names (`began=WIDGET&from=&to=&point=...`),
    checked as the funnel checks its own page; None if it names none."""
    widget_slug = query.get("began", "")
    if not widget_slug:
        return None
    if widget_slug not in svc.catalog.widgets:
        raise BadRequest("The list can't be filtered by that form.")
    widget = svc.catalog.widgets[widget_slug]
    first, last = day(query.get("from", ""), "first"), day(query.get("to", ""), "last")
    if first is None or last is None or first > last:
        raise BadRequest("The funnel's range on this list is damaged: go back to the funnel.")
    point = query.get("point", "started")
    if point not in POINTS:
        raise BadRequest("The list can't be filtered by that point of the funnel.")
    step, field = query.get("step", ""), query.get("field", "")
    names = {s.name for s in widget.steps}
    if point in {"reached", "exited"} and step not in names:
        raise BadRequest("The list can't be filtered by that step.")
    if field and (point != "exited" or (field != "-" and field not in widget.all_fields())):
        raise BadRequest("The list can't be filtered by that field.")
    source = query.get("source")
    if source is not None and len(source) > 64:
        raise BadRequest("That source is not one the funnel knows.")
    reached: list[tuple[int, int]] = []
    if point == "reached":
        for dealer in dealers:
            shown = svc.catalog.for_dealer(widget_slug, dealer).steps_for(dealer.config.flags())
            reached += [(dealer.id, i) for i, s in enumerate(shown) if s.name == step]
    return Cohort(
        widget=widget_slug,
        first=first.isoformat(),
        last=last.isoformat(),
        source=source,
        point=point,
        reached=tuple(reached),
        step=step if point in {"reached", "exited"} else "",
        field=field,
    )


def cohort_words(svc: Services, cohort: Cohort) -> str:
    """The funnel figure a list shows the leads of, in words."""
    widget = svc.catalog.widgets[cohort.widget]
    titles = {s.name: s.title for s in widget.steps}
    words = f"{widget.title} begun {cohort.first} to {cohort.last}"
    if cohort.source is not None:
        words += f", from {cohort.source}"
    point = {
        "started": "",
        "captured": "",
        "reached": f", reached {titles.get(cohort.step, cohort.step)}",
        "exited": f", first left at {titles.get(cohort.step, cohort.step)}",
        "resumed": ", came back by a link",
        "completed": ", completed",
        "contacted": ", contacted",
        "appointment": ", appointment set",
        "shown": ", shown",
        "sold": ", sold",
    }[cohort.point]
    if cohort.field == "-":
        point += " (no field)"
    elif cohort.field:
        fields = widget.all_fields()
        point += f" ({fields[cohort.field].label if cohort.field in fields else cohort.field})"
    return "From the funnel: " + words + point


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
    picked = chosen(query, everyone)
    zone = (picked or everyone)[0].timezone
    today = dt.datetime.now(ZoneInfo(zone)).date()
    slugs = await svc.funnel.busiest(picked or everyone, today)
    widget = query.get("widget", slugs[0])
    asked = svc.funnel.check(
        everyone,
        widget,
        day(query.get("from", ""), "first"),
        day(query.get("to", ""), "last"),
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
