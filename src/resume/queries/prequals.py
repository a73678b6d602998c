"""Pre-qualifications: at most one per draft, claimed with its consent before the provider is
asked, finished with the provider's answer sealed."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from resume.calc.prequal import Prequal
from resume.keyring import Keyring
from resume.outbox import Outgoing
from resume.queries import drafts as drafts_q
from resume.queries import outbox as outbox_q
from resume.tables import consents, drafts, prequals


class Claim(msgspec.Struct, frozen=True):
    claimed: bool  # False: this draft had one already, nothing was written
    status: str


def claim(
    conn: Connection,
    *,
    draft_id: str,
    dealer_id: int,
    widget: str,
    consent: dict[str, Any],
    provider: str,
    result_step: str,
    result_index: int,
    now: dt.datetime,
) -> Claim:
    """Record the "I agree" and claim the draft's one pre-qualification, or do nothing if it
    has one (a replayed or double-clicked POST): one transaction, the draft row locked."""
    drafts_q.lock(conn, [draft_id])
    found = conn.execute(
        select(prequals.c.status).where(prequals.c.draft_id == draft_id)
    ).scalar_one_or_none()
    if found is not None:
        return Claim(False, found)
    consent_id = conn.execute(
        insert(consents).values(draft_id=draft_id, at=now, **consent).returning(consents.c.id)
    ).scalar_one()
    conn.execute(
        insert(prequals).values(
            draft_id=draft_id,
            dealer_id=dealer_id,
            consent_id=consent_id,
            provider=provider,
            status="running",
            created_at=now,
        )
    )
    _events(conn, dealer_id, draft_id, widget, now, ("consent_credit_check", "prequal_started"))
    conn.execute(
        update(drafts)
        .where(drafts.c.id == draft_id)
        .values(
            revision=drafts.c.revision + 1,
            step=result_step,
            reached=func.max(drafts.c.reached, result_index)
            if conn.dialect.name == "sqlite"
            else func.greatest(drafts.c.reached, result_index),
            updated_at=now,
            exit_at=None,
        )
    )
    outbox_q.stop_followups(conn, [draft_id])
    return Claim(True, "running")


def finish(
    conn: Connection,
    *,
    draft_id: str,
    dealer_id: int,
    widget: str,
    result: Prequal | None,
    now: dt.datetime,
    alerts: list[Outgoing],
    ring: Keyring,
) -> None:
    """Store the provider's answer (sealed) and complete the draft; `None` is a failure. The
    shopper's part is done either way: no automatic follow-up, a person calls."""
    sealed = ring.seal(msgspec.json.encode(result).decode()) if result else None
    conn.execute(
        update(prequals)
        .where(prequals.c.draft_id == draft_id)
        .values(status="done" if result else "failed", result=sealed, finished_at=now)
    )
    outcome = "prequal_completed" if result else "prequal_failed"
    _events(conn, dealer_id, draft_id, widget, now, (outcome, "completed"))
    conn.execute(
        update(drafts)
        .where(drafts.c.id == draft_id)
        .values(
            revision=drafts.c.revision + 1,
            status="completed",
            completed_at=func.coalesce(drafts.c.completed_at, now),
            updated_at=now,
        )
    )
    outbox_q.enqueue(conn, [alert.row(dealer_id, draft_id, now) for alert in alerts])


async def load(
    conn: AsyncConnection, draft_id: str, *, ring: Keyring
) -> tuple[str, Prequal | None, dt.datetime] | None:
    """Return the draft's pre-qualification status, answer and start, or None if none."""
    row = (
        await conn.execute(
            select(prequals.c.status, prequals.c.result, prequals.c.created_at).where(
                prequals.c.draft_id == draft_id
            )
        )
    ).first()
    if row is None:
        return None
    result = None
    if row.result is not None:
        result = msgspec.json.decode(ring.open(row.result).encode(), type=Prequal)
    return row.status, result, row.created_at


def _events(
    conn: Connection,
    dealer_id: int,
    draft_id: str,
    widget: str,
    now: dt.datetime,
    kinds: tuple[str, ...],
) -> None:
    drafts_q.insert_events(
        conn,
        [
            {
                "dealer_id": dealer_id,
                "draft_id": draft_id,
                "widget": widget,
                "kind": kind,
                "step": "consent",
                "field": None,
                "at": now,
            }
            for kind in kinds
        ],
    )
