"""The outbox page, for admins and managers: parse, call resume.dashboard.operations, respond."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, get, post
from litestar.params import FromPath

from resume.dashboard.operations import KINDS
from resume.errors import BadRequest
from resume.queries.outbox import STATUSES
from resume.web.dashboard import staff_session as ss
from resume.web.services import services

STATUS_LABELS = {
    "dead": "Died (gave up)",
    "pending": "Queued",
    "sent": "Sent",
    "stopped": "Stopped",
    "suppressed": "Suppressed",
}


@get("/dashboard/outbox")
async def outbox_page(request: Request[Any, Any, Any]) -> Response[str]:
    svc = services(request)
    found = await ss.signed(request)
    query = {k: v for k, v in request.query_params.items() if v}
    status = query.get("status", "dead")
    kind = query.get("kind", "")
    before = _number(query["before"]) if "before" in query else None
    messages, more = await svc.operations.messages(found.account, status, kind, before)
    kept = {k: v for k, v in query.items() if k != "before"}
    return ss.render(
        svc,
        "dashboard/outbox.html",
        found=found,
        messages=messages,
        chosen=status,  # not `status`: render() takes that as the HTTP status
        kind=kind,
        statuses={s: STATUS_LABELS[s] for s in STATUSES},
        kinds=KINDS,
        done=query.get("done", ""),
        next_url="/dashboard/outbox?" + urlencode({**kept, "before": messages[-1].id})
        if more and messages
        else "",
    )


@post("/dashboard/outbox/{message:str}/{action:str}", status_code=303)
async def outbox_action(
    request: Request[Any, Any, Any], message: FromPath[str], action: FromPath[str]
) -> Response[Any]:
    svc = services(request)
    found = await ss.signed(request)
    if action not in {"retry", "stop"}:
        raise BadRequest("The form was sent with a button we don't know.")
    message_id = _number(message)
    fields = await ss.form(request, found)
    ip = ss.client(request).ip
    if action == "retry":
        await svc.operations.retry(found.account, message_id, ip)
        after = {"status": "pending", "done": "retried"}
    else:
        await svc.operations.stop(found.account, message_id, ip)
        after = {"status": "stopped", "done": "stopped"}
    back = fields.get("kind", "")
    if back in KINDS:
        after["kind"] = back
    return ss.go("/dashboard/outbox?" + urlencode(after))


def _number(value: str) -> int:
    if not value.isdigit() or len(value) > 12:
        raise BadRequest("That isn't a message's number.")
    return int(value)
