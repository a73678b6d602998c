"""The audit, for admins: who did what, when, newest first, with filters."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, get

from resume.errors import BadRequest, NotFound
from resume.queries import audit as audit_q
from resume.web.dashboard import staff_session as ss
from resume.web.services import services

PAGE = 50


@get("/dashboard/audit")
async def audit_page(request: Request[Any, Any, Any]) -> Response[str]:
    svc = services(request)
    found = await ss.signed(request)
    if not ss.may(found).may_read_audit:
        raise NotFound()
    query = {k: v for k, v in request.query_params.items() if v}
    action = query.get("action", "")
    if action and (len(action) > 32 or not action.replace("_", "").isalpha()):
        raise BadRequest("There is no such action to filter by.")
    before = None
    if query.get("before"):
        try:
            when, _, entry = query["before"].partition("|")
            before = (dt.datetime.fromisoformat(when), int(entry))
            if before[0].tzinfo is None:
                raise ValueError
        except ValueError:
            raise BadRequest("This page's address is damaged. Go back to the first page.") from None
    since = _day(query.get("since", ""))
    async with svc.db.read() as conn:
        entries = await audit_q.page(
            conn,
            dealer_ids=found.account.dealer_ids,
            action=action,
            since=since,
            before=before,
            limit=PAGE + 1,
        )
    more = len(entries) > PAGE
    entries = entries[:PAGE]
    kept = {k: v for k, v in query.items() if k != "before"}
    last = entries[-1] if entries else None
    return ss.render(
        svc,
        "dashboard/audit.html",
        found=found,
        entries=entries,
        query=kept,
        next_url="/dashboard/audit?"
        + urlencode({**kept, "before": f"{last.at.isoformat()}|{last.id}"})
        if more and last
        else "",
    )


def _day(value: str) -> dt.datetime | None:
    if not value:
        return None
    try:
        return dt.datetime.combine(dt.date.fromisoformat(value), dt.time(0), tzinfo=dt.UTC)
    except ValueError:
        raise BadRequest("The date should look like 2026-12-01.") from None
