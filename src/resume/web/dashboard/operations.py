"""The outbox and suppression list pages, for admins and managers: parse, call
resume.dashboard.operations, respond."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, get, post
from litestar.params import FromPath

from resume.dashboard.operations import KINDS, SUPPRESSION_REASONS
from resume.errors import BadRequest
from resume.fields import Field, clean
from resume.queries import dealers as dealers_q
from resume.queries.outbox import STATUSES
from resume.web.dashboard import staff_session as ss
from resume.web.services import services

EMAIL = Field(name="email", type="email", label="Email address", max_length=320)
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


@get("/dashboard/suppressions")
async def suppressions_page(request: Request[Any, Any, Any]) -> Response[str]:
    svc = services(request)
    found = await ss.signed(request)
    return await _suppressions(svc, found, request)


async def _suppressions(
    svc: Any, found: Any, request: Request[Any, Any, Any], *, status: int = 200, **extra: Any
) -> Response[str]:
    query = {k: v for k, v in request.query_params.items() if v}
    email = query.get("email", "")
    before = _number(query["before"]) if "before" in query else None
    rows, more = await svc.suppressions.listed(found.account, email, before)
    async with svc.db.read() as conn:
        dealers = [d for d in await dealers_q.all_dealers(conn) if d.id in found.account.dealer_ids]
    kept = {k: v for k, v in query.items() if k != "before"}
    return ss.render(
        svc,
        "dashboard/suppressions.html",
        status=status,
        found=found,
        rows=rows,
        email=email,
        dealers={d.id: d for d in dealers},
        reasons=SUPPRESSION_REASONS,
        done=query.get("done", ""),
        next_url="/dashboard/suppressions?" + urlencode({**kept, "before": rows[-1].id})
        if more and rows
        else "",
        **{"problem": "", "typed": {}, **extra},
    )


@post("/dashboard/suppressions", status_code=303)
async def suppression_add(request: Request[Any, Any, Any]) -> Response[Any]:
    svc = services(request)
    found = await ss.signed(request)
    fields = await ss.form(request, found)
    dealer = fields.get("dealer", "")
    dealer_id = _number(dealer) if dealer else found.account.dealer_ids[0]
    checked = clean(EMAIL, fields.get("email", ""))
    if not checked.valid or not checked.value:
        # Shown back with what was typed and the message, like a widget's step (rule 3).
        return await _suppressions(
            svc,
            found,
            request,
            status=400,
            typed=fields,
            problem=checked.error or "Enter the email address to stop emailing.",
        )
    stopped = await svc.suppressions.add(
        found.account, dealer_id, str(checked.value), fields.get("note", ""), ss.client(request).ip
    )
    return ss.go("/dashboard/suppressions?" + urlencode({"done": f"added:{stopped}"}))


@post("/dashboard/suppressions/{entry:str}/remove", status_code=303)
async def suppression_remove(
    request: Request[Any, Any, Any], entry: FromPath[str]
) -> Response[Any]:
    svc = services(request)
    found = await ss.signed(request)
    entry_id = _number(entry)
    fields = await ss.form(request, found)
    await svc.suppressions.remove(
        found.account, entry_id, fields.get("note", ""), ss.client(request).ip
    )
    return ss.go("/dashboard/suppressions?done=removed")
