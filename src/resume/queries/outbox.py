"""The transactional outbox: messages written with the change that causes them (rule 9)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
from sqlalchemy import Connection, Integer, and_, bindparam, exists, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from resume.queries.drafts import DRAFT_COLUMNS, DraftState, state_of
from resume.tables import drafts, leads, outbox, suppressions

# Every status an outbox row can have: waiting or being sent, sent, given up, stopped by a
# stop rule (the shopper came back, staff took over, unsubscribed), or suppressed at send.
STATUSES = ("pending", "sent", "dead", "stopped", "suppressed")

# Kinds addressed to the shopper, not the dealer: they carry List-Unsubscribe (resume.mail),
# and a purged draft's go with it (queries.purge), since they hold the shopper's address.
SHOPPER_KINDS = frozenset({"resume_link", "followup", "offer"})


class Message(msgspec.Struct, frozen=True):
    id: int
    dealer_id: int
    draft_id: str | None
    kind: str
    context: dict[str, Any]
    to_addr: str
    message_id: str
    status: str
    attempts: int
    due_at: dt.datetime
    sent_at: dt.datetime | None = None
    reply: str | None = None
    last_error: str | None = None


def _message(row: Any) -> Message:
    return Message(
        id=row.id,
        dealer_id=row.dealer_id,
        draft_id=row.draft_id,
        kind=row.kind,
        context=dict(row.context),
        to_addr=row.to_addr,
        message_id=row.message_id,
        status=row.status,
        attempts=row.attempts,
        due_at=row.due_at,
        sent_at=row.sent_at,
        reply=row.reply,
        last_error=row.last_error,
    )


def enqueue(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert messages; one whose dedupe_key is already queued is skipped, not an error."""
    if not rows:
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(outbox).on_conflict_do_nothing(index_elements=[outbox.c.dedupe_key])
    conn.execute(stmt, rows)


def stop_followups(conn: Connection, draft_ids: list[str]) -> int:
    """Stop the follow-ups still queued for these drafts; return how many were stopped."""
    if not draft_ids:
        return 0
    stopped = conn.execute(
        update(outbox)
        .where(
            outbox.c.draft_id.in_(draft_ids),
            outbox.c.kind == "followup",
            outbox.c.status == "pending",
        )
        .values(status="stopped", leased_until=None)
    )
    return int(stopped.rowcount or 0)


def _claim_statement(*, skip_locked: bool) -> Any:
    due = and_(
        outbox.c.status == "pending",
        outbox.c.due_at <= bindparam("b_now"),
        or_(outbox.c.leased_until.is_(None), outbox.c.leased_until < bindparam("b_now")),
    )
    chosen = (
        select(outbox.c.id)
        .where(due)
        .order_by(outbox.c.due_at, outbox.c.id)
        .limit(bindparam("b_limit", type_=Integer))
    )
    if skip_locked:
        chosen = chosen.with_for_update(skip_locked=True)
    return (
        update(outbox)
        .where(outbox.c.id.in_(chosen.scalar_subquery()))
        .values(
            leased_until=bindparam("b_until"),
            lease_owner=bindparam("b_owner"),
            attempts=outbox.c.attempts + 1,
        )
        .returning(*outbox.c)
    )


# Built once: a statement object made per call costs SQLAlchemy a fresh cache key every time,
# which was a visible share of a worker's time per message (issue #4 bench).
_CLAIM = {
    "postgresql": _claim_statement(skip_locked=True),
    "sqlite": _claim_statement(skip_locked=False),
}

_MARK_SENT = (
    update(outbox)
    .where(outbox.c.id == bindparam("b_id"))
    .values(
        status="sent",
        sent_at=bindparam("b_sent_at"),
        reply=bindparam("b_reply"),
        leased_until=None,
        last_error=None,
    )
)

# A follow-up sent is one more automatic touch on its draft's lead (none if it has none).
_TOUCH = (
    update(leads)
    .where(
        leads.c.id
        == select(drafts.c.lead_id).where(drafts.c.id == bindparam("b_draft")).scalar_subquery()
    )
    .values(touches_sent=leads.c.touches_sent + 1)
)


def _mark_and_touch() -> Any:
    """PostgreSQL's mark of a sent follow-up with its touch counted, in one statement (issue
    #14: a round trip less a message): the mark is a data-modifying CTE, which PostgreSQL runs
    whether or not the touch's update finds a lead."""
    sent = _MARK_SENT.returning(outbox.c.draft_id).cte("sent")
    lead = select(drafts.c.lead_id).join(sent, drafts.c.id == sent.c.draft_id)
    return (
        update(leads)
        .where(leads.c.id == lead.scalar_subquery())
        .values(touches_sent=leads.c.touches_sent + 1)
        .add_cte(sent)
    )


_MARK_AND_TOUCH = _mark_and_touch()


async def claim(
    conn: AsyncConnection, *, owner: str, now: dt.datetime, lease: dt.timedelta, limit: int
) -> list[Message]:
    """Lease up to `limit` due messages to `owner`, oldest due first; call inside a short
    write transaction. One statement: the update picks its rows itself (on PostgreSQL with
    FOR UPDATE SKIP LOCKED, so workers never wait for each other) and returns them."""
    result = await conn.execute(
        _CLAIM[conn.dialect.name],
        {"b_now": now, "b_limit": limit, "b_until": now + lease, "b_owner": owner},
    )
    return sorted((_message(row) for row in result), key=lambda message: message.id)


async def release(conn: AsyncConnection, message_ids: list[int]) -> None:
    """Give back claimed messages that were not tried, as if never claimed."""
    if message_ids:
        await conn.execute(
            update(outbox)
            .where(outbox.c.id.in_(message_ids), outbox.c.status == "pending")
            .values(leased_until=None, lease_owner=None, attempts=outbox.c.attempts - 1)
        )


async def mark_sent(
    conn: AsyncConnection, message: Message, *, now: dt.datetime, reply: str
) -> None:
    """The message went out: marked sent and, for a follow-up, counted as a touch on its
    lead, in the same transaction."""
    marked = {"b_id": message.id, "b_sent_at": now, "b_reply": reply}
    if message.kind != "followup" or message.draft_id is None:
        await conn.execute(_MARK_SENT, marked)
    elif conn.dialect.name == "postgresql":
        await conn.execute(_MARK_AND_TOUCH, marked)
    else:  # SQLite has no data-modifying CTE; its statements cost no round trip
        await conn.execute(_MARK_SENT, marked)
        await conn.execute(_TOUCH, {"b_draft": message.draft_id})


async def mark_status(conn: AsyncConnection, message_id: int, status: str) -> None:
    """End a message without sending it (e.g. "suppressed")."""
    await conn.execute(
        update(outbox).where(outbox.c.id == message_id).values(status=status, leased_until=None)
    )


async def mark_failed(
    conn: AsyncConnection, message_id: int, *, error: str, retry_at: dt.datetime | None
) -> None:
    """Keep the error; retry at `retry_at`, or park the message as dead when it is None."""
    values: dict[str, Any] = {"last_error": error[:2000], "leased_until": None}
    if retry_at is None:
        values["status"] = "dead"
    else:
        values["due_at"] = retry_at
    # A message stopped or suppressed meanwhile keeps that status.
    await conn.execute(
        update(outbox)
        .where(outbox.c.id == message_id, outbox.c.status == "pending")
        .values(**values)
    )


async def counts(conn: AsyncConnection) -> dict[str, int]:
    """How many rows have each status (every status, 0 where none), for the metrics."""
    found = await conn.execute(select(outbox.c.status, func.count()).group_by(outbox.c.status))
    counted = {status: 0 for status in STATUSES}
    counted.update({status: int(n) for status, n in found})
    return counted


async def get(conn: AsyncConnection, message_id: int) -> Message | None:
    row = (await conn.execute(select(outbox).where(outbox.c.id == message_id))).first()
    return _message(row) if row else None


async def with_status(conn: AsyncConnection, status: str, *, limit: int) -> list[Message]:
    result = await conn.execute(
        select(outbox).where(outbox.c.status == status).order_by(outbox.c.id.desc()).limit(limit)
    )
    return [_message(row) for row in result]


async def page(
    conn: AsyncConnection,
    *,
    dealer_ids: tuple[int, ...],
    status: str,
    kind: str = "",
    before: int | None = None,
    limit: int = 50,
) -> list[Message]:
    """The messages of these dealerships with this status, newest first, a keyset page at a
    time (`before`: the last id of the page before)."""
    query = select(outbox).where(outbox.c.dealer_id.in_(dealer_ids), outbox.c.status == status)
    if kind:
        query = query.where(outbox.c.kind == kind)
    if before is not None:
        query = query.where(outbox.c.id < before)
    result = await conn.execute(query.order_by(outbox.c.id.desc()).limit(limit))
    return [_message(row) for row in result]


async def stop(conn: AsyncConnection, message_id: int, now: dt.datetime) -> bool:
    """Stop a queued message that no worker holds now; False if it isn't one."""
    result = await conn.execute(
        update(outbox)
        .where(
            outbox.c.id == message_id,
            outbox.c.status == "pending",
            or_(outbox.c.leased_until.is_(None), outbox.c.leased_until < now),
        )
        .values(status="stopped", leased_until=None)
    )
    return result.rowcount == 1


async def retry(conn: AsyncConnection, message_id: int) -> bool:
    """Queue a dead message again, due now, with a fresh set of attempts."""
    result = await conn.execute(
        update(outbox)
        .where(outbox.c.id == message_id, outbox.c.status == "dead")
        .values(status="pending", attempts=0, due_at=dt.datetime.now(dt.UTC), leased_until=None)
    )
    return result.rowcount == 1


async def sent_before(conn: AsyncConnection, message: Message) -> bool:
    """Whether a message of the same kind for the same draft went out before this one."""
    query = select(outbox.c.id).where(
        outbox.c.draft_id == message.draft_id,
        outbox.c.kind == message.kind,
        outbox.c.status == "sent",
        outbox.c.id != message.id,
    )
    return (await conn.execute(query.limit(1))).first() is not None


async def for_draft(conn: AsyncConnection, draft_id: str) -> list[Message]:
    result = await conn.execute(
        select(outbox).where(outbox.c.draft_id == draft_id).order_by(outbox.c.id)
    )
    return [_message(row) for row in result]


class Recheck(msgspec.Struct, frozen=True):
    """What may stop a claimed message, read again just before it is sent (rule 7)."""

    draft: DraftState | None  # the draft's columns now, without its values; None if gone
    suppressed: bool


def _recheck_statements() -> tuple[Any, Any]:
    suppressed = (
        exists()
        .where(
            suppressions.c.dealer_id == bindparam("b_dealer"),
            suppressions.c.email == bindparam("b_email"),
        )
        .label("suppressed")
    )
    with_draft = select(*DRAFT_COLUMNS, suppressed).where(drafts.c.id == bindparam("b_draft"))
    return with_draft, select(suppressed)


# Built once, like _CLAIM: sent for every message, and a statement made per call cost a cache
# key and its coercions each time (issue #14: 4.5 % of a worker's own time).
_RECHECK, _SUPPRESSED = _recheck_statements()


async def recheck(conn: AsyncConnection, message: Message) -> Recheck:
    """The message's draft row as it is now and whether its address is suppressed, in one
    statement: an unsubscribe, a return, a status change or a purge that landed after the
    claim still stops it (issue #14: this was three statements a message)."""
    params = {
        "b_dealer": message.dealer_id,
        "b_email": message.to_addr.strip().lower(),
        "b_draft": message.draft_id,
    }
    if message.draft_id is not None:
        found = (await conn.execute(_RECHECK, params)).first()
        if found is not None:
            return Recheck(state_of(found), bool(found.suppressed))
    # No draft, or purged or erased since the claim: its suppression alone, rarely.
    row = (await conn.execute(_SUPPRESSED, params)).one()
    return Recheck(None, bool(row.suppressed))
