"""The shopper's steps: the first page, each step's page, and the POST that saves a step.

Each route reads the request, calls one service (resume.web.step_flow) and responds. The
draft travels in the signed `d` field, never a cookie (design rule 2).
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath

from resume import page_vehicle, source
from resume.web import step_flow
from resume.web.forms import read_post
from resume.web.visit import visit_for


@get("/embed/{dealer:str}/{widget:str}")
async def first_step(
    request: Request[Any, Any, Any], dealer: FromPath[str], widget: FromPath[str]
) -> Response[str]:
    """Show the first step: the page a dealer puts in its iframe. Nothing is stored yet."""
    visit = await visit_for(request, dealer, widget)
    query = request.query_params
    visit.source = source.arrived(query, request.headers.get("referer", ""), visit.svc.own_origin)
    visit.prefill, visit.page_vehicle = page_vehicle.arrived(
        query, visit.steps[0], visit.dealer.origins
    )
    return await visit.respond(step_flow.first(visit))


@get("/embed/{dealer:str}/{widget:str}/{step:str}")
async def show_step(
    request: Request[Any, Any, Any],
    dealer: FromPath[str],
    widget: FromPath[str],
    step: FromPath[str],
) -> Response[Any]:
    """Show a step the draft has reached, with everything saved in place."""
    visit = await visit_for(request, dealer, widget)
    query = dict(request.query_params)
    outcome = await step_flow.show(visit, step, query.pop("d", ""), query)
    return await visit.respond(outcome)


@post("/embed/{dealer:str}/{widget:str}/{step:str}", status_code=303)
async def save_step(
    request: Request[Any, Any, Any],
    dealer: FromPath[str],
    widget: FromPath[str],
    step: FromPath[str],
) -> Response[Any]:
    """Store every field of the step as typed, then send the shopper where they asked to go."""
    visit = await visit_for(request, dealer, widget)
    posted = await read_post(visit, request)
    return await visit.respond(await step_flow.save(visit, step, posted))
