"""The lead list as CSV and a lead's ADF document, as downloads (issue #10, item 4)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar import Request, Response, get
from litestar.params import FromPath
from litestar.response import Stream

from resume.web.dashboard import staff_session as ss
from resume.web.dashboard.leads import lead_number, listed
from resume.web.security import page_headers
from resume.web.services import services


@get("/dashboard/leads.csv")
async def leads_csv(request: Request[Any, Any, Any]) -> Stream:
    """The lead list as the page shows it (its filters, the account's scope), every page of
    it, streamed; the export is audited with its filter before the first row."""
    svc = services(request)
    found = await ss.signed(request)
    asked = await listed(request, svc, found)
    await svc.exports.start_csv(found.account, asked.filters, asked.query, ip=ss.client(request).ip)
    day = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
    return Stream(
        svc.exports.csv_lines(found.account, asked.filters),
        media_type="text/csv; charset=utf-8",
        headers={
            **page_headers(),
            "Content-Disposition": f'attachment; filename="leads-{day}.csv"',
        },
    )


@get("/dashboard/leads/{lead:str}/adf")
async def lead_adf(request: Request[Any, Any, Any], lead: FromPath[str]) -> Response[bytes]:
    """One of the lead's drafts as the ADF/XML document its CRM gets; audited."""
    svc = services(request)
    found = await ss.signed(request)
    draft = request.query_params.get("draft", "")
    if len(draft) > 64:
        draft = "-"  # no draft has such an id: a 404 below
    name, body = await svc.exports.adf(
        found.account, lead_number(lead), draft, ip=ss.client(request).ip
    )
    return Response(
        body,
        media_type="application/xml",
        headers={**page_headers(), "Content-Disposition": f'attachment; filename="{name}"'},
    )


ROUTES: tuple[Any, ...] = (leads_csv, lead_adf)
