"""What reaches the shopper from the dealership: the resume link sent now, automatic
follow-up stopped, trade-in offers.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from resume import outbox
from resume.consent import follows_up
from resume.dashboard.followthrough import base
from resume.errors import BadRequest, NotFound, TooManyRequests
from resume.queries import drafts as drafts_q
from resume.queries import leads as leads_q
from resume.queries import limits as limits_q
from resume.queries import offers as offers_q
from resume.queries import outbox as outbox_q
from resume.queries import suppressions as suppressions_q
from resume.queries.staff import Account

# "Send the resume link now": at most this many a lead an hour, whoever presses.
LINKS_PER_HOUR = 3


class Outreach(base.Service):
    """Send the resume link, stop the follow-up, make trade-in offers."""

    async def send_link(self, account: Account, lead_id: int, ip: str = "") -> str:
        """Email the shopper a resume link now, from the dealership; only with their consent,
        never to a suppressed address, and a few times an hour at most. Return what happened,
        in words."""
        now = base.now()
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
        now = base.now()
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
        now = base.now()
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
                note=base.note_text(note),
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
                note=base.note_text(note),
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
