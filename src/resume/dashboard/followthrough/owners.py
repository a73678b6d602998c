"""Who works a lead: a lead given to someone, and a rep away or back."""

from __future__ import annotations

from resume.dashboard.followthrough import base
from resume.errors import BadRequest, NotFound
from resume.queries import audit as audit_q
from resume.queries import leads as leads_q
from resume.queries import staff as staff_q
from resume.queries.staff import Account
from resume.staff.roles import role


class Owners(base.Service):
    """Assign leads; mark a rep away or back."""

    async def assign(
        self, account: Account, lead_id: int, owner_id: int | None, ip: str = ""
    ) -> None:
        """A manager gives the lead to someone (or to nobody); a rep may take an unassigned
        lead for themselves, and nothing else."""
        may = role(account.role)
        now = base.now()
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

    async def set_away(self, account: Account, away: bool, ip: str = "") -> None:
        now = base.now()
        async with self.db.write() as conn:
            await staff_q.change(conn, account.id, away=away)
            await audit_q.record(
                conn, "away" if away else "back", at=now, staff_id=account.id, ip=ip
            )
