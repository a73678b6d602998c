"""What every part of the follow-through service shares: its dependencies, the lead as the
account may see it, the timeline-and-audit record of an action, the cadence stopped."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from resume.catalog import Catalog
from resume.db import Database
from resume.errors import NotFound
from resume.keyring import Keyring
from resume.queries import audit as audit_q
from resume.queries import leads as leads_q
from resume.queries.leads import Lead
from resume.queries.staff import Account
from resume.settings import Settings
from resume.staff.roles import role

NOTE_CHARS = 2000


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def note_text(text: str) -> str | None:
    text = text.strip()
    return text[:NOTE_CHARS] if text else None


class Service:
    """The follow-through service's parts."""

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
