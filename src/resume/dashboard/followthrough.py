"""What the sales team does about a lead: attempts, statuses, owners, callbacks, notes, the
resume link sent now, automatic follow-up stopped, trade-in offers.

Each action checks what the account may do and writes, in one transaction, the change, its
line in the lead's timeline and its audit entry (design rule 11). A status past New, or an
attempt that reached the shopper, stops the automatic cadence with the same stop rule the
shopper's own return uses.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection

from resume import outbox
from resume.catalog import Catalog
from resume.consent import follows_up
from resume.db import Database
from resume.errors import BadRequest, NotFound, TooManyRequests
from resume.keyring import Keyring
from resume.leads import (
    APPOINTMENT,
    CALLBACK_GRACE,
    CHANNELS,
    LOST_REASONS,
    OUTCOMES,
    REACHED,
    STATUSES,
    clock,
)
from resume.queries import audit as audit_q
from resume.queries import callbacks as callbacks_q
from resume.queries import dealers as dealers_q
from resume.queries import drafts as drafts_q
from resume.queries import funnel as funnel_q
from resume.queries import leads as leads_q
from resume.queries import limits as limits_q
from resume.queries import offers as offers_q
from resume.queries import outbox as outbox_q
from resume.queries import staff as staff_q
from resume.queries import suppressions as suppressions_q
from resume.queries.leads import Lead
from resume.queries.staff import Account
from resume.settings import Settings
from resume.staff.roles import role

NOTE_CHARS = 2000
# "Send the resume link now": at most this many a lead an hour, whoever presses.
LINKS_PER_HOUR = 3


class Followthrough:
    def __init__(self, settings: Settings, db: Database, ring: Keyring, catalog: Catalog) -> None:
        self.settings = settings
        self.db = db
        self.ring = ring
        self.catalog = catalog

    async def _lead(self, conn: AsyncConnection, account: Account, lead_id: int) -> Lead:
        lead = await leads_q.get(conn, lead_id, account.dealer_ids)
        if lead is None or (
            not role(account.role).sees_every_lead and lead.owner_id not in (None, account.id)
        ):
            raise NotFound("There is no such lead.")
        return lead

    async def _record(
        self,
        conn: AsyncConnection,
        account: Account,
        lead: Lead,
        kind: str,
        action: str,
        now: dt.datetime,
        ip: str,
        **activity: Any,
    ) -> None:
        await leads_q.add_activity(
            conn,
            lead_id=lead.id,
            dealer_id=lead.dealer_id,
            staff_id=account.id,
            kind=kind,
            at=now,
            **activity,
        )
        detail = {k: v for k, v in (activity.get("detail") or {}).items() if k != "text"}
        if activity.get("channel"):
            detail["channel"] = activity["channel"]
        if activity.get("outcome"):
            detail["outcome"] = activity["outcome"]
        await audit_q.record(
            conn,
            action,
            at=now,
            staff_id=account.id,
            dealer_id=lead.dealer_id,
            subject=f"lead:{lead.id}",
            detail=detail,
            ip=ip,
        )

    async def _stop_cadence(
        self, conn: AsyncConnection, account: Account, lead: Lead, now: dt.datetime, why: str
    ) -> None:
        stopped = await leads_q.stop_followups(conn, lead.id)
        if stopped:
            await leads_q.add_activity(
                conn,
                lead_id=lead.id,
                dealer_id=lead.dealer_id,
                staff_id=None,
                kind="followup_stopped",
                at=now,
                detail={"stopped": stopped, "why": why},
            )

    async def attempt(
        self, account: Account, lead_id: int, channel: str, outcome: str, note: str, ip: str = ""
    ) -> None:
        """Log a call, text, email or visit with its outcome."""
        if channel not in CHANNELS or outcome not in OUTCOMES:
            raise BadRequest("Choose how you tried to reach them and what happened.")
        now = _now()
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
                note=_note(note),
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
        now = _now()
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

    async def assign(
        self, account: Account, lead_id: int, owner_id: int | None, ip: str = ""
    ) -> None:
        """A manager gives the lead to someone (or to nobody); a rep may take an unassigned
        lead for themselves, and nothing else."""
        may = role(account.role)
        now = _now()
        async with self.db.write() as conn:
            lead = await self._lead(conn, account, lead_id)
            if not may.may_reassign and not (owner_id == account.id and lead.owner_id is None):
                raise NotFound("There is no such lead.")
            name = ""
            if owner_id is not None:
                owner = await staff_q.get(conn, owner_id)
                if (
                    owner is None
                    or lead.dealer_id not in owner.dealer_ids
                    or owner.status != "active"
                ):
                    raise BadRequest("Choose someone on this dealership's team.")
                name = owner.label
            await leads_q.change(conn, lead.id, owner_id=owner_id)
            await self._record(
                conn,
                account,
                lead,
                "assigned",
                "assigned",
                now,
                ip,
                detail={"to": owner_id, "to_name": name, "from": lead.owner_id},
            )

    async def note(self, account: Account, lead_id: int, text: str, ip: str = "") -> None:
        if not text.strip():
            raise BadRequest("Write the note first.")
        now = _now()
        async with self.db.write() as conn:
            lead = await self._lead(conn, account, lead_id)
            await self._record(conn, account, lead, "note", "note_added", now, ip, note=_note(text))

    async def callback(
        self, account: Account, lead_id: int, due: dt.datetime, note: str, ip: str = ""
    ) -> None:
        """Promise a callback: its owner is reminded at its time, and the managers are told
        if it is not done 15 minutes after."""
        now = _now()
        if due <= now - dt.timedelta(minutes=1):
            raise BadRequest("Choose a time that has not passed.")
        if due > now + dt.timedelta(days=90):
            raise BadRequest("Choose a time in the next 90 days.")
        async with self.db.write() as conn:
            lead = await self._lead(conn, account, lead_id)
            dealer = await dealers_q.get(conn, lead.dealer_id)
            assert dealer is not None
            owner = lead.owner_id or account.id
            owner_account = await staff_q.get(conn, owner)
            callback_id = await callbacks_q.add_callback(
                conn,
                lead_id=lead.id,
                dealer_id=lead.dealer_id,
                staff_id=owner,
                due_at=due,
                note=_note(note) or "",
                now=now,
            )
            local = due.astimezone(ZoneInfo(dealer.timezone)).strftime("%a %b %-d, %-I:%M %p")
            await self._record(
                conn,
                account,
                lead,
                "callback",
                "callback_promised",
                now,
                ip,
                note=_note(note),
                detail={"due": local, "callback": callback_id},
            )
            managers = [
                m.email
                for m in await staff_q.team(conn, (lead.dealer_id,))
                if m.status == "active" and role(m.role).sees_every_lead
            ]
            messages = [
                outbox.Outgoing(
                    kind="callback_due",
                    to_addr=owner_account.email if owner_account else dealer.lead_email,
                    dedupe_key=f"callback_due:{callback_id}",
                    message_id=outbox.new_message_id(self.settings),
                    context={"callback": callback_id, "lead": lead.id},
                    due_at=due,
                )
            ]
            for address in managers or [dealer.lead_email]:
                messages.append(
                    outbox.Outgoing(
                        kind="callback_missed",
                        to_addr=address,
                        dedupe_key=f"callback_missed:{callback_id}:{address}",
                        message_id=outbox.new_message_id(self.settings),
                        context={"callback": callback_id, "lead": lead.id},
                        due_at=due + CALLBACK_GRACE,
                    )
                )
            draft_ids = await leads_q.draft_ids(conn, lead.id)
            await conn.run_sync(
                outbox_q.enqueue,
                [
                    m.row(lead.dealer_id, draft_ids[-1] if draft_ids else None, now)
                    for m in messages
                ],
            )

    async def callback_done(
        self, account: Account, lead_id: int, callback_id: int, ip: str = ""
    ) -> None:
        now = _now()
        async with self.db.write() as conn:
            lead = await self._lead(conn, account, lead_id)
            if not await callbacks_q.finish_callback(conn, lead.id, callback_id, now):
                raise NotFound("There is no such callback, or it is done already.")
            await self._record(
                conn,
                account,
                lead,
                "callback_done",
                "callback_done",
                now,
                ip,
                detail={"callback": callback_id},
            )

    async def send_link(self, account: Account, lead_id: int, ip: str = "") -> str:
        """Email the shopper a resume link now, from the dealership; only with their consent,
        never to a suppressed address, and a few times an hour at most. Return what happened,
        in words."""
        now = _now()
        async with self.db.write() as conn:
            lead = await self._lead(conn, account, lead_id)
            if lead.demo:
                raise BadRequest("This is a demo shopper: demo shoppers are never emailed.")
            states = [
                s
                for i in await leads_q.draft_ids(conn, lead.id)
                if (s := await drafts_q.load(conn, i, ring=self.ring)) and s.email
            ]
            if not states:
                raise BadRequest("This shopper gave no email address.")
            draft = max(states, key=lambda s: s.revision)
            if not any(follows_up(s.values) for s in states):
                raise BadRequest(
                    "This shopper didn't agree to emails from the dealership, so we can't send "
                    "the link. Call them instead."
                )
            assert draft.email is not None
            if await suppressions_q.is_suppressed(conn, lead.dealer_id, draft.email):
                raise BadRequest("This address unsubscribed or bounced: it is never emailed.")
            if await limits_q.hit(
                conn, f"staff-link:{lead.id}", now, window=dt.timedelta(hours=1),
                limit=LINKS_PER_HOUR + 1, block_for=dt.timedelta(hours=1),
            ) or await limits_q.blocked(conn, f"staff-link:{lead.id}", now):  # fmt: skip
                raise TooManyRequests("The link was sent several times this hour already.")
            message = outbox.resume_link(
                self.settings, draft.email, f"staff_link:{draft.id}:{int(now.timestamp())}"
            )
            await conn.run_sync(outbox_q.enqueue, [message.row(lead.dealer_id, draft.id, now)])
            await self._record(
                conn, account, lead, "link_sent", "link_sent", now, ip, detail={"draft": draft.id}
            )
        return "The resume link is on its way."

    async def stop_followup(self, account: Account, lead_id: int, ip: str = "") -> None:
        """No more automatic follow-up for this shopper: what is queued stops, and a later
        exit queues nothing."""
        now = _now()
        async with self.db.write() as conn:
            lead = await self._lead(conn, account, lead_id)
            await leads_q.change(conn, lead.id, followup_stopped=True)
            stopped = await leads_q.stop_followups(conn, lead.id)
            await self._record(
                conn,
                account,
                lead,
                "followup_stopped",
                "followup_stopped",
                now,
                ip,
                detail={"stopped": stopped, "why": "staff"},
            )

    async def offer(
        self,
        account: Account,
        lead_id: int,
        draft_id: str,
        low: Decimal,
        high: Decimal,
        valid_until: dt.datetime,
        note: str,
        ip: str = "",
    ) -> bool:
        """Record the appraiser's offer for the lead's trade-in and email it to the shopper
        (with their consent); return whether the email was queued."""
        if low <= 0 or high < low or high > Decimal("1000000"):
            raise BadRequest("Enter the offer as an amount, or a range from low to high.")
        now = _now()
        if valid_until <= now:
            raise BadRequest("The offer must be valid until a date that has not passed.")
        async with self.db.write() as conn:
            lead = await self._lead(conn, account, lead_id)
            draft = await drafts_q.load(conn, draft_id, ring=self.ring)
            if (
                draft is None
                or draft.lead_id != lead.id
                or draft.widget not in self.catalog.kinds
                or not self.catalog.kind(draft.widget).takes_offers
            ):
                raise NotFound("There is no such trade-in for this lead.")
            offer_id = await offers_q.add_offer(
                conn,
                lead_id=lead.id,
                draft_id=draft.id,
                dealer_id=lead.dealer_id,
                staff_id=account.id,
                low_cents=int(low * 100),
                high_cents=int(high * 100),
                valid_until=valid_until,
                note=_note(note),
                created_at=now,
            )
            text = f"${low:,.2f}" if low == high else f"${low:,.2f} to ${high:,.2f}"
            await self._record(
                conn,
                account,
                lead,
                "offer",
                "offer_made",
                now,
                ip,
                note=_note(note),
                detail={"offer": offer_id, "text": text},
            )
            mailable = (
                not lead.demo
                and draft.email is not None
                and follows_up(draft.values)
                and not await suppressions_q.is_suppressed(conn, lead.dealer_id, draft.email)
            )
            if mailable:
                assert draft.email is not None
                message = outbox.Outgoing(
                    kind="offer",
                    to_addr=draft.email,
                    dedupe_key=f"offer:{offer_id}",
                    message_id=outbox.new_message_id(self.settings),
                    context={"offer": offer_id},
                )
                await conn.run_sync(outbox_q.enqueue, [message.row(lead.dealer_id, draft.id, now)])
        return mailable

    async def set_away(self, account: Account, away: bool, ip: str = "") -> None:
        now = _now()
        async with self.db.write() as conn:
            await staff_q.change(conn, account.id, away=away)
            await audit_q.record(
                conn, "away" if away else "back", at=now, staff_id=account.id, ip=ip
            )

    async def viewed(self, account: Account, lead: Lead, ip: str = "") -> None:
        """Audit that the lead's page was read."""
        async with self.db.write() as conn:
            await audit_q.record(
                conn,
                "lead_viewed",
                at=_now(),
                staff_id=account.id,
                dealer_id=lead.dealer_id,
                subject=f"lead:{lead.id}",
                ip=ip,
            )

    async def revealed(
        self, account: Account, lead: Lead, draft_id: str, field: str, reason: str, ip: str = ""
    ) -> None:
        """Audit a masked value shown, with the reason given (never the value)."""
        if not role(account.role).may_reveal:
            raise NotFound("There is no such lead.")
        if len(reason.strip()) < 4:
            raise BadRequest("Say why you need to see this value.")
        async with self.db.write() as conn:
            await self._record(
                conn,
                account,
                lead,
                "reveal",
                "revealed",
                _now(),
                ip,
                detail={"draft": draft_id, "field": field, "reason": reason.strip()[:200]},
            )


def _note(text: str) -> str | None:
    text = text.strip()
    return text[:NOTE_CHARS] if text else None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
