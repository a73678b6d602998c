"""The lead list, a lead's page, and the forms on it (attempts, status, owner, callbacks,
notes, the resume link, follow-up stopped, trade-in offers, reveals)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import msgspec
from litestar import Request, Response, get, post
from litestar.params import FromPath

from resume.errors import BadRequest, TokenInvalid
from resume.leads import CHANNELS, LOST_REASONS, OUTCOMES, STATUSES
from resume.queries import dealers as dealers_q
from resume.queries import staff as staff_q
from resume.queries.lead_list import Filter
from resume.tokens import Done
from resume.web.dashboard import drill
from resume.web.dashboard import staff_session as ss
from resume.web.services import Services, services

OWNERS = {"anyone": "Anyone", "me": "Me", "unassigned": "Unassigned"}
SORTS = {"activity": "Last activity", "age": "Age"}


async def _dealers(svc: Services, ids: tuple[int, ...]) -> list[Any]:
    async with svc.db.read() as conn:
        return [d for d in await dealers_q.all_dealers(conn) if d.id in ids]


async def _team(svc: Services, dealer_ids: tuple[int, ...]) -> list[Any]:
    async with svc.db.read() as conn:
        return await staff_q.team(conn, dealer_ids)


def _date(value: str, zone: str, what: str) -> dt.datetime | None:
    if not value:
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise BadRequest(f"The {what} date should look like 2026-12-01.") from None
    return dt.datetime.combine(day, dt.time(0), tzinfo=ZoneInfo(zone)).astimezone(dt.UTC)


def _choice(query: dict[str, str], name: str, allowed: Any, default: str = "") -> str:
    value = query.get(name, default)
    if value and value not in allowed:
        raise BadRequest(f"The list can't be filtered by that {name.replace('_', ' ')}.")
    return value


class Listed(msgspec.Struct, frozen=True):
    """What a lead list's address asks for, checked: its filter, the account's dealerships,
    the query as given, and the names the page shows."""

    filters: Filter
    dealers: list[Any]
    query: dict[str, str]
    steps: dict[str, str]
    slugs: dict[str, Any]


async def listed(request: Request[Any, Any, Any], svc: Services, found: Any) -> Listed:
    """The lead list's filters from its address, within the account's scope: the page and
    its CSV export read the same list (issue #10: exports that ignore filters are a bug)."""
    query = {k: v for k, v in request.query_params.items() if v}
    dealers = await _dealers(svc, found.account.dealer_ids)
    slugs = {d.slug: d for d in dealers}
    chosen = _choice(query, "dealer", slugs)
    # Several of them, as a funnel of several dealerships links here (`dealers=a,b`).
    several = drill.chosen(query, dealers)
    picked = (slugs[chosen],) if chosen else several
    scope = svc.casework.scope(found.account, tuple(d.id for d in picked))
    zone = picked[0].timezone if picked else dealers[0].timezone if dealers else "UTC"
    widgets = svc.catalog.widgets
    steps = {s.name: s.title for w in widgets.values() for s in w.steps}
    filters = Filter(
        dealer_ids=scope.dealer_ids,
        only_for=scope.only_for,
        viewer_id=found.account.id,
        owner=_choice(query, "owner", OWNERS, "anyone"),
        widget=_choice(query, "widget", widgets),
        status=_choice(query, "status", STATUSES),
        exit_step=_choice(query, "exit", steps),
        has_phone=_choice(query, "phone", {"1"}) == "1",
        since=_date(query.get("since", ""), zone, "from"),
        until=_date(query.get("until", ""), zone, "to"),
        needs_action=_choice(query, "needs", {"1"}) == "1",
        sort=_choice(query, "sort", SORTS, "activity"),
        cohort=drill.cohort_filter(svc, query, picked or dealers),
        # A rep's leads: only someone covering these dealerships (read only when asked).
        **drill.team_filters(
            query, [m.id for m in await _team(svc, scope.dealer_ids)] if "rep" in query else []
        ),
    )
    return Listed(filters, dealers, query, steps, slugs)


@get("/dashboard/leads")
async def lead_list(request: Request[Any, Any, Any]) -> Response[str]:
    """Every lead the account may see, filtered, a page at a time by keyset."""
    svc = services(request)
    found = await ss.signed(request)
    asked = await listed(request, svc, found)
    query, dealers, filters, steps, slugs = (
        asked.query, asked.dealers, asked.filters, asked.steps, asked.slugs
    )  # fmt: skip
    widgets = svc.catalog.widgets
    after = _cursor(query.get("after", ""))
    try:
        number = max(1, min(int(query.get("page", "1")), 100_000))
    except ValueError:
        raise BadRequest("The page number should be a number.") from None
    page = await svc.casework.page(found.account, filters, after=after, dealers=dealers)
    kept = {k: v for k, v in query.items() if k not in {"after", "page"}}
    shown = _shown_filters(kept, steps, widgets, slugs)
    if filters.cohort is not None:
        rest = {k: v for k, v in kept.items() if k not in drill.COHORT_KEYS}
        shown.insert(
            0, (drill.cohort_words(svc, filters.cohort), "/dashboard/leads?" + urlencode(rest))
        )
    names = {m.id: m.label for m in await _team(svc, filters.dealer_ids)} if "rep" in kept else {}
    for words, key in drill.team_words(kept, names):
        rest = {k: v for k, v in kept.items() if k != key}
        shown.append((words, "/dashboard/leads?" + urlencode(rest)))
    return ss.render(
        svc,
        "dashboard/leads.html",
        found=found,
        page=page,
        number=number,
        query=kept,
        shown=shown,
        dealers=dealers,
        widgets=widgets,
        steps=steps,
        statuses=STATUSES,
        owners=OWNERS,
        sorts=SORTS,
        # A funnel's figure stays chosen as other filters are applied (its chip removes it).
        cohort_keys=drill.COHORT_KEYS | drill.TEAM_KEYS | {"dealers"},
        next_url="/dashboard/leads?"
        + urlencode({**kept, "after": page.next_after, "page": number + 1})
        if page.next_after
        else "",
        sort_url={s: "/dashboard/leads?" + urlencode({**kept, "sort": s}) for s in SORTS},
        # Every page of this list, with its filters (the export reads the same list).
        export_url="/dashboard/leads.csv" + ("?" + urlencode(kept) if kept else ""),
    )


def _shown_filters(
    kept: dict[str, str], steps: dict[str, str], widgets: Any, slugs: dict[str, Any]
) -> list[tuple[str, str]]:
    """The chosen filters in words, each with the list's address without it (to remove it)."""
    labels = {
        "dealer": lambda v: slugs[v].name,
        "dealers": lambda v: ", ".join(slugs[s].name for s in v.split(",") if s in slugs),
        "widget": lambda v: widgets[v].title,
        "status": lambda v: STATUSES[v],
        "exit": lambda v: f"Left at {steps[v]}",
        "owner": lambda v: f"Owner: {OWNERS[v]}",
        "phone": lambda v: "Has a phone",
        "since": lambda v: f"From {v}",
        "until": lambda v: f"Before {v}",
        "needs": lambda v: "Needs action",
    }
    shown = []
    for name, value in kept.items():
        if name in labels and not (name == "owner" and value == "anyone"):
            rest = {k: v for k, v in kept.items() if k != name}
            shown.append((labels[name](value), "/dashboard/leads?" + urlencode(rest)))
    return shown


def _cursor(value: str) -> tuple[dt.datetime, int] | None:
    if not value:
        return None
    try:
        when, _, lead_id = value.partition("|")
        found = dt.datetime.fromisoformat(when)
        if found.tzinfo is None:
            raise ValueError
        return found, int(lead_id)
    except ValueError:
        raise BadRequest("This page's address is damaged. Go back to the first page.") from None


def lead_number(value: str) -> int:
    if not (value.isascii() and value.isdigit()) or len(value) > 12:
        raise BadRequest("That isn't a lead's number.")
    return int(value)


@get("/dashboard/leads/{lead:str}")
async def lead_page(request: Request[Any, Any, Any], lead: FromPath[str]) -> Response[str]:
    """A lead's page: the header card, what to say next, the answers, the figures the
    shopper saw, the timeline, and the forms to follow through."""
    svc = services(request)
    found = await ss.signed(request)
    lead_id = lead_number(lead)
    page = await svc.casework.lead(found.account, lead_id)
    done = _done(svc, request.query_params.get("done", ""), found.account.id, lead_id)
    if not done:
        # Audited on every opening but the page a form redirects back to, which the form's
        # own audit row covers (tokens.Done).
        await svc.followthrough.viewed(found.account, page.lead, ss.client(request).ip)
    return _render_lead(svc, found, page, request, done=done)


# How long after a form the page it redirects to counts as the same visit.
DONE_SECONDS = 120


def _done(svc: Services, token: str, staff_id: int, lead_id: int) -> str:
    """The form this account has just sent for this lead, from the page's `done`; "" if
    there is none, or it is old, forged, or another account's or lead's."""
    if not token:
        return ""
    try:
        done = svc.signer.verify_done(token, max_age=DONE_SECONDS)
    except TokenInvalid:
        return ""
    return done.action if (done.staff_id, done.lead_id) == (staff_id, lead_id) else ""


def _render_lead(
    svc: Services,
    found: Any,
    page: Any,
    request: Request[Any, Any, Any],
    *,
    done: str = "",
    **extra: Any,
) -> Response[str]:
    show = request.query_params.get("show", "all")
    if show not in {"all", "shopper", "email", "staff", "system"}:
        show = "all"
    return ss.render(
        svc,
        "dashboard/lead.html",
        found=found,
        p=page,
        show=show,
        statuses=STATUSES,
        lost_reasons=LOST_REASONS,
        channels=CHANNELS,
        outcomes=OUTCOMES,
        zone=ZoneInfo(page.dealer.timezone),
        done=done,
        **extra,
    )


ACTIONS = frozenset(
    {
        "attempt",
        "status",
        "assign",
        "take",
        "note",
        "callback",
        "callback-done",
        "send-link",
        "stop-followup",
        "offer",
        "reveal",
    }
)


@post("/dashboard/leads/{lead:str}/{action:str}", status_code=303)
async def lead_action(
    request: Request[Any, Any, Any], lead: FromPath[str], action: FromPath[str]
) -> Response[Any]:
    """One form of the lead page; then back to the page (Post/Redirect/Get)."""
    svc = services(request)
    found = await ss.signed(request)
    if action not in ACTIONS:
        raise BadRequest("The form was sent with a button we don't know.")
    lead_id = lead_number(lead)
    fields = await ss.form(request, found)
    ip = ss.client(request).ip
    work = svc.followthrough
    account = found.account
    async with svc.db.read() as conn:
        dealer_zone = await _zone(conn, account, lead_id, svc)
    done = action
    if action == "attempt":
        await work.attempt(
            account,
            lead_id,
            fields.get("channel", ""),
            fields.get("outcome", ""),
            fields.get("note", ""),
            ip,
        )
    elif action == "status":
        status = fields.get("status", "")
        when = _local(fields.get("appointment", ""), dealer_zone, "appointment")
        await work.set_status(
            account, lead_id, status, appointment=when, reason=fields.get("reason", ""), ip=ip
        )
    elif action == "assign":
        owner = fields.get("owner", "")
        await work.assign(account, lead_id, lead_number(owner) if owner else None, ip)
    elif action == "take":
        await work.assign(account, lead_id, account.id, ip)
    elif action == "note":
        await work.note(account, lead_id, fields.get("note", ""), ip)
    elif action == "callback":
        due = _local(fields.get("due", ""), dealer_zone, "callback")
        if due is None:
            raise BadRequest("Give the callback's date and time.")
        await work.callback(account, lead_id, due, fields.get("note", ""), ip)
    elif action == "callback-done":
        await work.callback_done(account, lead_id, lead_number(fields.get("callback", "")), ip)
    elif action == "send-link":
        await work.send_link(account, lead_id, ip)
    elif action == "stop-followup":
        await work.stop_followup(account, lead_id, ip)
    elif action == "offer":
        low = _money(fields.get("low", ""))
        high = _money(fields.get("high", "")) if fields.get("high", "").strip() else low
        until = (
            _local(fields.get("valid_until", "") + "T23:59", dealer_zone, "offer")
            if fields.get("valid_until")
            else None
        )
        if until is None:
            raise BadRequest("Give the date the offer is valid until.")
        mailed = await work.offer(
            account, lead_id, fields.get("draft", ""), low, high, until, fields.get("note", ""), ip
        )
        done = "offer" if mailed else "offer-not-mailed"
    elif action == "reveal":
        page = await svc.casework.lead(account, lead_id)
        draft, field = fields.get("draft", ""), fields.get("field", "")
        await work.revealed(account, page.lead, draft, field, fields.get("reason", ""), ip)
        revealed = await svc.casework.lead(account, lead_id, reveal=(draft, field))
        return _render_lead(svc, found, revealed, request, revealed_field=(draft, field))
    token = svc.signer.sign_done(Done(account.id, lead_id, done))
    return ss.go(f"/dashboard/leads/{lead_id}?{urlencode({'done': token})}")


async def _zone(conn: Any, account: Any, lead_id: int, svc: Services) -> str:
    lead = await svc.casework.visible(conn, account, lead_id)
    dealer = await dealers_q.get(conn, lead.dealer_id)
    return dealer.timezone if dealer else "UTC"


def _local(value: str, zone: str, what: str) -> dt.datetime | None:
    """A datetime-local field's value, in the dealership's timezone, as UTC."""
    if not value:
        return None
    try:
        local = dt.datetime.fromisoformat(value)
    except ValueError:
        raise BadRequest(f"The {what} time should look like 2026-12-01T14:30.") from None
    if local.tzinfo is not None:
        raise BadRequest(f"The {what} time should look like 2026-12-01T14:30.")
    return local.replace(tzinfo=ZoneInfo(zone)).astimezone(dt.UTC)


def _money(value: str) -> Decimal:
    text = value.strip().lstrip("$").replace(",", "")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise BadRequest("Enter the offer in dollars, like 18,500.") from None
    if not amount.is_finite() or amount.as_tuple().exponent < -2:  # type: ignore[operator]
        raise BadRequest("Enter the offer in dollars, like 18,500.")
    return amount
