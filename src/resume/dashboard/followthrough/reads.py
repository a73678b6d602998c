"""A lead read: its page viewed, a masked value revealed, both audited."""

from __future__ import annotations

from resume.dashboard.followthrough import base
from resume.errors import BadRequest, NotFound
from resume.queries import audit as audit_q
from resume.queries.leads import Lead
from resume.queries.staff import Account
from resume.staff.roles import role


class Reads(base.Service):
    """Audit what staff read of a lead."""

    async def viewed(self, account: Account, lead: Lead, ip: str = "") -> None:
        """Audit that the lead's page was read."""
        async with self.db.write() as conn:
            await audit_q.record(
                conn,
                "lead_viewed",
                at=base.now(),
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
                base.now(),
                ip,
                detail={"draft": draft_id, "field": field, "reason": reason.strip()[:200]},
            )
