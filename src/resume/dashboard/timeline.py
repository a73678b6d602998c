"""A lead's timeline: what the shopper did, what was mailed, what staff did, in words, each
line with its byline."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
from sqlalchemy import select

from resume.catalog import Catalog
from resume.dashboard.talk import step_named
from resume.definitions import Widget
from resume.leads import CHANNELS, LOST_REASONS, OUTCOMES, STATUSES
from resume.queries import leads as leads_q
from resume.queries.drafts import DraftState
from resume.queries.leads import Lead
from resume.tables import events, outbox, suppressions


class Item(msgspec.Struct, frozen=True):
    """A timeline entry: when, what, and who (the shopper, the system, or a person)."""

    at: dt.datetime
    kind: str  # shopper, email, staff, system
    text: str
    by: str
    note: str = ""


async def read(
    conn: Any, catalog: Catalog, lead: Lead, ids: list[str], states: list[DraftState]
) -> list[Item]:
    """Read a lead's timeline, newest first: its drafts' events, its mail, its staff's work."""
    titles: dict[str, Widget] = {}
    sensitive: set[str] = set()
    for state in states:
        if state.widget in catalog.widgets:
            titles[state.id] = catalog.widgets[state.widget]
            sensitive |= titles[state.id].sensitive()
    items: list[Item] = []
    # A save writes a field_changed event per field and then its step_saved: read as one
    # line ("Saved Your numbers: changed Down payment, Term in months").
    changed: dict[tuple[str, str | None], tuple[dt.datetime, list[str]]] = {}
    for row in await conn.execute(
        select(events).where(events.c.draft_id.in_(ids)).order_by(events.c.id)
    ):
        widget = titles.get(row.draft_id)
        if row.kind == "field_changed":
            changed.setdefault((row.draft_id, row.step), (row.at, []))[1].append(
                _field_label(widget, row.field, sensitive)
            )
            continue
        text = _event_text(row.kind, row.step, row.field, widget, sensitive)
        fields = (
            changed.pop((row.draft_id, row.step), (row.at, []))[1]
            if row.kind == "step_saved"
            else []
        )
        if fields:
            text += ": changed " + ", ".join(fields)
        if text:
            by = "the system" if row.kind in SYSTEM_EVENTS else "the shopper"
            items.append(Item(row.at, "system" if by == "the system" else "shopper", text, by))
    for at, fields in changed.values():
        # Changes with no step saved after them: answers carried from another widget.
        items.append(Item(at, "system", "Answers carried in: " + ", ".join(fields), "the system"))
    for row in await conn.execute(
        select(
            outbox.c.kind,
            outbox.c.status,
            outbox.c.created_at,
            outbox.c.sent_at,
            outbox.c.context,
        )
        .where(outbox.c.draft_id.in_(ids))
        .order_by(outbox.c.id)
    ):
        if row.kind not in EMAILS:
            continue
        at = row.sent_at or row.created_at
        items.append(
            Item(
                at,
                "email",
                f"{EMAILS[row.kind]}: {EMAIL_STATUS.get(row.status, row.status)}",
                "the system",
            )
        )
    if lead.email:
        for row in await conn.execute(
            select(suppressions.c.reason, suppressions.c.at).where(
                suppressions.c.dealer_id == lead.dealer_id, suppressions.c.email == lead.email
            )
        ):
            what = {"unsubscribe": "Unsubscribed", "bounce": "Email bounced for good"}.get(
                row.reason, "Address suppressed by staff"
            )
            items.append(
                Item(
                    row.at,
                    "shopper" if row.reason == "unsubscribe" else "system",
                    what,
                    "the shopper" if row.reason == "unsubscribe" else "the system",
                )
            )
    for activity in await leads_q.activity(conn, lead.id):
        items.append(
            Item(
                activity.at,
                "staff",
                _activity_text(activity),
                activity.staff or "the system",
                activity.note or "",
            )
        )
    items.sort(key=lambda item: item.at, reverse=True)
    return items


SYSTEM_EVENTS = frozenset({"exited", "prequal_completed", "prequal_failed", "prequal_started"})
EMAILS = {
    "resume_link": "Resume link emailed",
    "followup": "Follow-up emailed",
    "alert": "Team alerted",
    "adf": "Lead sent to the CRM",
    "offer": "Trade-in offer emailed",
    "came_back": "Owner told the shopper came back",
    "callback_due": "Callback reminder",
    "callback_missed": "Managers told of a missed callback",
}
EMAIL_STATUS = {
    "pending": "queued",
    "sent": "sent",
    "stopped": "stopped",
    "suppressed": "not sent (unsubscribed)",
    "dead": "failed",
}


def _event_text(
    kind: str, step: str | None, field: str | None, widget: Widget | None, sensitive: set[str]
) -> str:
    found_step = step_named(widget, step)
    title = (found_step.title if found_step else step) or ""
    label = field or ""
    if widget and field:
        found = widget.all_fields().get(field)
        label = found.label if found else field
    widget_title = widget.title if widget else "a form"
    texts = {
        "draft_started": f"Started {widget_title}",
        "step_saved": f"Saved {title}" if step != "save" else "Saved for later",
        "field_changed": f"Changed {label}"
        + (" (sensitive: value not shown)" if field in sensitive else ""),
        "exited": f"Left at {title}" + (f", on {label}" if field else ""),
        "partial_lead": "Gave a way to reach them",
        "resumed": "Came back from a resume link",
        "completed": f"Finished {widget_title}",
        "showroom_requested": "Asked to finish at the dealership",
        "link_requested": "Asked for a resume link",
        "consent_followup": "Agreed to follow-up emails",
        "consent_credit_check": "Agreed to the soft credit check notice",
        "prequal_completed": "Pre-qualification estimate made",
        "prequal_failed": "Pre-qualification could not be made",
        "link_opened": "A resume link was opened (a mail scanner may open links too)",
    }
    return texts.get(kind, "")


def _field_label(widget: Widget | None, field: str | None, sensitive: set[str]) -> str:
    found = widget.all_fields().get(field or "") if widget else None
    label = found.label if found else (field or "")
    return f"{label} (sensitive)" if field in sensitive else label


def _activity_text(activity: leads_q.Activity) -> str:
    d = activity.detail
    if activity.kind == "attempt":
        channel = activity.channel or ""
        outcome = activity.outcome or ""
        return f"{CHANNELS.get(channel, channel)}: {OUTCOMES.get(outcome, outcome)}"
    if activity.kind == "status":
        text = f"Status: {STATUSES.get(d.get('to', ''), d.get('to'))}"
        if d.get("reason"):
            text += f" ({LOST_REASONS.get(d['reason'], d['reason'])})"
        if d.get("appointment"):
            text += f", {d['appointment']}"
        return text
    texts = {
        "note": "Note",
        "assigned": f"Owner: {d.get('to_name') or 'unassigned'}",
        "callback": f"Callback promised for {d.get('due', '')}",
        "callback_done": "Callback done",
        "offer": f"Trade-in offer: {d.get('text', '')}",
        "reveal": f"Revealed {d.get('field', '')}: {d.get('reason', '')}",
        "link_sent": "Resume link sent by staff",
        "followup_stopped": f"Automatic follow-up stopped ({d.get('stopped', 0)} queued)",
        "came_back": "Came back",
    }
    return texts.get(activity.kind, activity.kind)
