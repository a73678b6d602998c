"""Callbacks promised to a shopper, their reminders, and done."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from resume import outbox
from resume.dashboard.followthrough import base
from resume.errors import BadRequest, NotFound
from resume.leads import (
    CALLBACK_GRACE,
)
from resume.queries import callbacks as callbacks_q
from resume.queries import dealers as dealers_q
from resume.queries import leads as leads_q
from resume.queries import outbox as outbox_q
from resume.queries import staff as staff_q
from resume.queries.staff import Account
from resume.staff.roles import role


class Callbacks(base.Service):
    """Promise callbacks and mark them done."""

    async def callback(
        self, account: Account, lead_id: int, due: dt.datetime, note: str, ip: str = ""
    ) -> None:
        """Promise a callback: its owner is reminded at its time, and the managers are told
        if it is not done 15 minutes after."""
        now = base.now()
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
                note=base.note_text(note) or "",
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
                note=base.note_text(note),
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
        now = base.now()
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
