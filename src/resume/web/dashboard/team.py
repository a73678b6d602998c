"""The team's follow-through page (issue #10, item 3): parse, call resume.dashboard.team,
render."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get

from resume.dashboard.team import LISTED, Team
from resume.dashboard.team_figures import ATTEMPT_BUCKETS, WITHIN, count, minutes, part, share
from resume.leads import CALLBACK_GRACE, STATUSES
from resume.web.dashboard import staff_session as ss
from resume.web.services import services


@get("/dashboard/team")
async def team_page(request: Request[Any, Any, Any]) -> Response[str]:
    """Per store and per rep, for leads captured in the range (default the last 30 days)."""
    svc = services(request)
    found = await ss.signed(request)
    params = request.query_params
    page = await Team(svc.db).page(
        found.account,
        start=params.get("from", ""),
        end=params.get("to", ""),
        stores=params.getall("store", []),
    )
    return ss.render(
        svc,
        "dashboard/team.html",
        found=found,
        p=page,
        share=share,
        count=count,
        part=part,
        minutes=minutes,
        within=WITHIN,
        buckets=ATTEMPT_BUCKETS,
        listed=LISTED,
        grace=int(CALLBACK_GRACE.total_seconds() // 60),
        statuses=STATUSES,
        picked={d.id for d in page.chosen} if params.getall("store", []) else set(),
    )


ROUTES: tuple[Any, ...] = (team_page,)
