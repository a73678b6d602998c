"""Outgoing mail as it is queued: one row type, built here for every kind of message.

A message is written in the same transaction as the change that causes it (design rule 9):
a save queues its resume link or its alerts, an exit its touches. What is stored is what to
build and for whom, never the email itself; the worker builds it at send (resume.mail).
Every message carries a dedupe key, so the same logical message is queued once however many
requests or workers try.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any
from urllib.parse import urlsplit

import msgspec

from resume.dealers import Dealer
from resume.settings import Settings

# The reply the outbox row of a message kept on disk stores (no SMTP server set): how the
# dashboard's mail pages and the purge find the message's file.
KEPT = "250 kept in "


class Outgoing(msgspec.Struct, frozen=True, kw_only=True):
    """One message to queue: what to build (kind and context), to whom, and its keys."""

    kind: str
    to_addr: str
    dedupe_key: str
    message_id: str
    context: dict[str, Any] = msgspec.field(default_factory=dict)
    # None: due at once, with the change that queues it.
    due_at: dt.datetime | None = None

    def row(self, dealer_id: int, draft_id: str | None, now: dt.datetime) -> dict[str, Any]:
        """Return the outbox row, queued `now` by the change to `draft_id`."""
        return {
            "dealer_id": dealer_id,
            "draft_id": draft_id,
            "kind": self.kind,
            "context": self.context,
            "to_addr": self.to_addr,
            "message_id": self.message_id,
            "dedupe_key": self.dedupe_key,
            "created_at": now,
            "due_at": self.due_at or now,
        }


def new_message_id(settings: Settings) -> str:
    """Return a Message-ID, fixed when the message is queued so a resend is the same mail."""
    domain = urlsplit(settings.base_url).hostname or "localhost"
    return f"<{uuid.uuid4().hex}@{domain}>"


def resume_link(settings: Settings, to_addr: str, dedupe_key: str) -> Outgoing:
    """An email to the shopper with a fresh resume link."""
    return Outgoing(
        kind="resume_link",
        to_addr=to_addr,
        dedupe_key=dedupe_key,
        message_id=new_message_id(settings),
    )


def alerts(
    settings: Settings, dealer: Dealer, draft_id: str, moment: str, *, has_contact: bool
) -> list[Outgoing]:
    """A high-intent moment's messages: an alert to the lead inbox, and an ADF lead to the
    CRM when the dealer has one. Keyed so that each moment is sent once per draft."""
    found = [
        Outgoing(
            kind="alert",
            context={"moment": moment},
            to_addr=dealer.lead_email,
            dedupe_key=f"alert:{draft_id}:{moment}",
            message_id=new_message_id(settings),
        )
    ]
    # ADF needs an email or a phone for the customer; without one the alert still goes.
    if dealer.config.crm_email and has_contact:
        found.append(
            Outgoing(
                kind="adf",
                context={"moment": moment},
                to_addr=dealer.config.crm_email,
                dedupe_key=f"adf:{draft_id}:{moment}",
                message_id=new_message_id(settings),
            )
        )
    return found


def followups(
    settings: Settings,
    *,
    draft_id: str,
    to_addr: str,
    exit_number: int,
    exit_step: str,
    exit_field: str | None,
    cadence_version: str,
    due: list[dt.datetime],
) -> list[Outgoing]:
    """The touches of one exit, one per time in `due`; keyed by draft, exit and touch."""
    return [
        Outgoing(
            kind="followup",
            context={
                "exit": exit_number,
                "touch": touch,
                "exit_step": exit_step,
                "exit_field": exit_field,
                "cadence_version": cadence_version,
            },
            to_addr=to_addr,
            dedupe_key=f"followup:{draft_id}:{exit_number}:{touch}",
            message_id=new_message_id(settings),
            due_at=when,
        )
        for touch, when in enumerate(due, start=1)
    ]
