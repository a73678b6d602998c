"""The queries of follow-up: idle drafts, their last activity, exits and their touches."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, insert, select, true, update
from sqlalchemy.ext.asyncio import AsyncConnection

from resume.consent import follows_up
from resume.keyring import Keyring
from resume.leads import STATUSES
from resume.queries import funnel as funnel_q
from resume.queries import outbox as outbox_q
from resume.queries.drafts import DraftState, load
from resume.tables import consents, drafts, events, leads, suppressions


async def idle_drafts(
    conn: AsyncConnection, now: dt.datetime, *, limit: int, after: dt.datetime | None = None
) -> list[tuple[str, int, dt.datetime]]:
    """Drafts that may have exited: open, no exit since the last save. Whether an exit also
    queues touches is decided per draft (`touches_allowed`): the sales team sees where every
    partial lead left, emailed or not (issue #9), and the funnel where every draft did, a
    partial lead or not (issue #10). The partial index `ix_drafts_idle` holds just these.

    Each dealer's idle time is checked by the caller; here at least a minute has passed.
    """
    query = (
        select(drafts.c.id, drafts.c.dealer_id, drafts.c.updated_at)
        .where(
            drafts.c.status != "completed",
            drafts.c.exit_at.is_(None),
            drafts.c.demo.is_(False),
            drafts.c.updated_at < now - dt.timedelta(minutes=1),
            drafts.c.updated_at > after if after is not None else true(),
        )
        .order_by(drafts.c.updated_at)
        .limit(limit)
    )
    return [(r.id, r.dealer_id, r.updated_at) for r in await conn.execute(query)]


async def load_idle(conn: AsyncConnection, draft_id: str, *, ring: Keyring) -> DraftState | None:
    """The draft, if it is still open with no exit recorded."""
    draft = await load(conn, draft_id, ring=ring)
    if draft is None or draft.status == "completed" or draft.exit_at is not None:
        return None
    return draft


async def touches_allowed(conn: AsyncConnection, draft: DraftState) -> bool:
    """Whether an exit of this draft queues the cadence: an email, the follow-up box still
    ticked and its consent recorded, a lead still New whose follow-up staff did not stop,
    and an address not suppressed."""
    if draft.email is None or draft.demo or draft.lead_status != "new":
        return False
    if not follows_up(draft.values):
        return False
    consented = (
        await conn.execute(
            select(consents.c.id)
            .where(consents.c.draft_id == draft.id, consents.c.kind == "followup")
            .limit(1)
        )
    ).first()
    if consented is None:
        return False
    suppressed = (
        await conn.execute(
            select(suppressions.c.id).where(
                suppressions.c.dealer_id == draft.dealer_id,
                suppressions.c.email == func.lower(draft.email),
            )
        )
    ).first()
    if suppressed is not None:
        return False
    if draft.lead_id is not None:
        stopped = (
            await conn.execute(select(leads.c.followup_stopped).where(leads.c.id == draft.lead_id))
        ).scalar_one_or_none()
        if stopped:
            return False
    return True


async def last_activity(conn: AsyncConnection, draft_id: str) -> tuple[str, str | None]:
    """The last step saved, and the last field changed on it."""
    saved = (
        await conn.execute(
            select(events.c.step)
            # "save" is the save-for-later page, not a step of the widget.
            .where(
                events.c.draft_id == draft_id,
                events.c.kind == "step_saved",
                events.c.step != "save",
            )
            .order_by(events.c.id.desc())
            .limit(1)
        )
    ).first()
    step = saved.step if saved else ""
    changed = (
        await conn.execute(
            select(events.c.field)
            .where(
                events.c.draft_id == draft_id,
                events.c.kind == "field_changed",
                events.c.step == step,
            )
            .order_by(events.c.id.desc())
            .limit(1)
        )
    ).first()
    return step, changed.field if changed else None


async def mark_exit(conn: AsyncConnection, draft: DraftState, now: dt.datetime) -> bool:
    """Record the exit unless the draft was saved meanwhile (its revision moved)."""
    result = await conn.execute(
        update(drafts)
        .where(
            drafts.c.id == draft.id, drafts.c.revision == draft.revision, drafts.c.exit_at.is_(None)
        )
        .values(exit_at=now, exits=drafts.c.exits + 1)
    )
    return result.rowcount == 1


async def record_exit_event(
    conn: AsyncConnection, draft: DraftState, step: str, field: str | None, now: dt.datetime
) -> None:
    await conn.execute(
        insert(events).values(
            dealer_id=draft.dealer_id,
            draft_id=draft.id,
            widget=draft.widget,
            kind="exited",
            step=step,
            field=field,
            at=now,
        )
    )


# The sales team's statuses (resume.leads), and "appointment", their old name for the set one.
LEAD_STATUSES = (*STATUSES, "appointment")


async def set_lead_status(conn: AsyncConnection, draft_id: str, status: str) -> int | None:
    """Record the sales team's status on the draft's lead (and all its drafts); past "new",
    the queued follow-ups stop at once.

    Returns how many queued touches were stopped, or None when there is no such draft.
    """
    if status not in LEAD_STATUSES:
        raise ValueError(f"status must be one of {', '.join(LEAD_STATUSES)}")
    status = "appointment_set" if status == "appointment" else status
    lead_id = (await conn.execute(select(drafts.c.lead_id).where(drafts.c.id == draft_id))).first()
    if lead_id is None:
        return None
    if lead_id[0] is not None:
        await conn.execute(update(leads).where(leads.c.id == lead_id[0]).values(status=status))
        stages = funnel_q.STATUS_STAGES.get(status, ())
        await funnel_q.reach_stages(conn, lead_id[0], stages, dt.datetime.now(dt.UTC))
        ids = list(
            (
                await conn.execute(select(drafts.c.id).where(drafts.c.lead_id == lead_id[0]))
            ).scalars()
        )
    else:
        ids = [draft_id]
    await conn.execute(update(drafts).where(drafts.c.id.in_(ids)).values(lead_status=status))
    if status == "new":
        return 0
    # The same stop as a shopper's return: the queued touches end at once.
    return await conn.run_sync(outbox_q.stop_followups, ids)
