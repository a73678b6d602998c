"""A lead's progress: attempts to reach the shopper, statuses set, notes.

A status past New, or an attempt that reached the shopper, stops the automatic cadence with the
same stop rule the shopper's own return uses.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from resume.dashboard.followthrough import base
from resume.errors import BadRequest
from resume.leads import (
    APPOINTMENT,
    CHANNELS,
    LOST_REASONS,
    OUTCOMES,
    REACHED,
    STATUSES,
    clock,
)
from resume.queries import dealers as dealers_q
from resume.queries import funnel as funnel_q
from resume.queries import leads as leads_q
from resume.queries.staff import Account


class Progress(base.Service):
    """Log attempts, set statuses, add notes."""

    async def attempt(
        self, account: Account, lead_id: int, channel: str, outcome: str, note: str, ip: str = ""
    ) -> None:
        """Log a call, text, email or visit with its outcome."""
        if channel not in CHANNELS or outcome not in OUTCOMES:
            raise BadRequest("Choose how you tried to reach them and what happened.")
        now = base.now()
        async with self.db.write() as conn:
            lead = await self._lead(conn, account, lead_id)
            values: dict[str, Any] = {
                "attempts": lead.attempts + 1,
                "first_attempt_at": lead.first_attempt_at or now,
                "last_attempt_at": now,
            }
            dealer = await dealers_q.get(conn, lead.dealer_id)
            if lead.first_attempt_at is None and dealer is not None:
                values["response_minutes"] = clock(
                    lead.captured_at, now, now, dealer.config, dealer.timezone
                )[0]
            status = lead.status
            if outcome in REACHED and status in {"new", "attempting"}:
                status = "contacted"
            elif status == "new":
                status = "attempting"
            if status != lead.status:
                values["status"] = status
            await leads_q.change(conn, lead.id, **values)
            await self._record(
                conn,
                account,
                lead,
                "attempt",
                "attempt_logged",
                now,
                ip,
                channel=channel,
                outcome=outcome,
                note=base.note_text(note),
            )
            if status != lead.status:
                # The status the attempt moved the lead to is a status change like any other:
                # on the timeline and in the audit.
                await self._record(
                    conn,
                    account,
                    lead,
                    "status",
                    "status_changed",
                    now,
                    ip,
                    detail={"from": lead.status, "to": status, "by": "attempt"},
                )
                await leads_q.sync_drafts(conn, lead.id, status)
            reached = ("contacted",) if outcome in REACHED else ()
            await funnel_q.reach_stages(
                conn, lead.id, (*reached, *funnel_q.STATUS_STAGES.get(status, ())), now
            )
            if outcome in REACHED:
                await self._stop_cadence(conn, account, lead, now, "reached")
            elif status != "new":
                await self._stop_cadence(conn, account, lead, now, "status")

    async def set_status(
        self,
        account: Account,
        lead_id: int,
        status: str,
        *,
        appointment: dt.datetime | None = None,
        reason: str = "",
        ip: str = "",
    ) -> None:
        """Set the lead's status; an appointment needs its time, Lost needs a reason."""
        if status not in STATUSES:
            raise BadRequest("Choose one of the statuses.")
        if status in APPOINTMENT and appointment is None:
            raise BadRequest("Give the appointment's date and time.")
        if status == "lost" and reason not in LOST_REASONS:
            raise BadRequest("Say why the lead was lost.")
        now = base.now()
        async with self.db.write() as conn:
            lead = await self._lead(conn, account, lead_id)
            values: dict[str, Any] = {"status": status, "lost_reason": reason or None}
            if status in APPOINTMENT:
                values["appointment_at"] = appointment
            await leads_q.change(conn, lead.id, **values)
            detail: dict[str, Any] = {"from": lead.status, "to": status}
            if reason:
                detail["reason"] = reason
            if appointment is not None and status in APPOINTMENT:
                detail["appointment"] = appointment.isoformat()
            await self._record(
                conn, account, lead, "status", "status_changed", now, ip, detail=detail
            )
            await leads_q.sync_drafts(conn, lead.id, status)
            await funnel_q.reach_stages(conn, lead.id, funnel_q.STATUS_STAGES.get(status, ()), now)
            if status != "new":
                await self._stop_cadence(conn, account, lead, now, "status")

    async def note(self, account: Account, lead_id: int, text: str, ip: str = "") -> None:
        if not text.strip():
            raise BadRequest("Write the note first.")
        now = base.now()
        async with self.db.write() as conn:
            lead = await self._lead(conn, account, lead_id)
            await self._record(
                conn, account, lead, "note", "note_added", now, ip, note=base.note_text(text)
            )
