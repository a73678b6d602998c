"""Drafts, their field values and their funnel events."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

import msgspec
from sqlalchemy import Connection, bindparam, case, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from resume import source
from resume.keyring import Keyring
from resume.tables import consents, drafts, events, field_values

# The version a draft is created at. A page made before its draft existed carries version 0
# and stands for this one: once the version moves on (a revocation), that page is void too.
FIRST_VERSION = 1


class Stored(msgspec.Struct, frozen=True):
    """One field as the shopper last typed it."""

    value: str
    valid: bool
    error: str | None
    step: str


class DraftState(msgspec.Struct, frozen=True):
    id: str
    dealer_id: int
    widget: str
    version: int
    revision: int
    step: str
    reached: int
    status: str
    email: str | None
    phone: str | None
    wants_showroom: bool
    values: dict[str, Stored]
    link_sent_at: dt.datetime | None = None
    exit_at: dt.datetime | None = None
    exits: int = 0
    lead_status: str = "new"
    resumed_at: dt.datetime | None = None
    # The shopper's lead, once an email or phone made the draft a partial lead.
    lead_id: int | None = None
    demo: bool = False
    # Its cohort in the funnel (resume.queries.funnel): the day it began, its source.
    cohort_day: str | None = None
    cohort_source: str = ""
    # The language it is shown in, and its resume link and follow-ups speak (issue #11).
    lang: str = "en"


DRAFT_COLUMNS = (
    drafts.c.id,
    drafts.c.dealer_id,
    drafts.c.widget,
    drafts.c.version,
    drafts.c.revision,
    drafts.c.step,
    drafts.c.reached,
    drafts.c.status,
    drafts.c.email,
    drafts.c.phone,
    drafts.c.wants_showroom,
    drafts.c.link_sent_at,
    drafts.c.exit_at,
    drafts.c.exits,
    drafts.c.lead_status,
    drafts.c.resumed_at,
    drafts.c.lead_id,
    drafts.c.demo,
    drafts.c.cohort_day,
    drafts.c.cohort_source,
    drafts.c.lang,
)


async def load(conn: AsyncConnection, draft_id: str, *, ring: Keyring) -> DraftState | None:
    """Read a draft and all its values, the sealed ones opened with `ring`."""
    return await conn.run_sync(lambda sync: load_sync(sync, draft_id, ring=ring))


async def load_many(
    conn: AsyncConnection, draft_ids: Iterable[str], *, ring: Keyring
) -> dict[str, DraftState]:
    """Read several drafts and all their values in two statements (the outbox's batch)."""

    def read(sync: Connection) -> dict[str, DraftState]:
        rows = lock(sync, draft_ids, for_update=False)
        values = load_values(sync, list(rows), ring=ring)
        return {
            id_: msgspec.structs.replace(row, values=values.get(id_, {}))
            for id_, row in rows.items()
        }

    return await conn.run_sync(read)


def load_sync(conn: Connection, draft_id: str, *, ring: Keyring) -> DraftState | None:
    rows = lock(conn, [draft_id], for_update=False)
    if draft_id not in rows:
        return None
    values = load_values(conn, [draft_id], ring=ring)
    return msgspec.structs.replace(rows[draft_id], values=values.get(draft_id, {}))


def lock(conn: Connection, ids: Iterable[str], *, for_update: bool = True) -> dict[str, DraftState]:
    """Read draft rows (without values), locking them in id order on PostgreSQL."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    query = select(*DRAFT_COLUMNS).where(drafts.c.id.in_(wanted)).order_by(drafts.c.id)
    if for_update and conn.dialect.name == "postgresql":
        # Id order: two processes saving overlapping batches never deadlock. NO KEY UPDATE,
        # not UPDATE: the batch also inserts events for other drafts, whose foreign-key checks
        # take KEY SHARE locks that a plain FOR UPDATE would block (a cross-process deadlock).
        query = query.with_for_update(key_share=True)
    return {row.id: state_of(row) for row in conn.execute(query)}


def state_of(row: Any) -> DraftState:
    """A draft's state from a row of its columns (DRAFT_COLUMNS), without its values."""
    return DraftState(
        id=row.id,
        dealer_id=row.dealer_id,
        widget=row.widget,
        version=row.version,
        revision=row.revision,
        step=row.step,
        reached=row.reached,
        status=row.status,
        email=row.email,
        phone=row.phone,
        wants_showroom=bool(row.wants_showroom),
        link_sent_at=row.link_sent_at,
        exit_at=row.exit_at,
        exits=row.exits,
        lead_status=row.lead_status,
        resumed_at=row.resumed_at,
        lead_id=row.lead_id,
        demo=bool(row.demo),
        cohort_day=row.cohort_day,
        cohort_source=row.cohort_source,
        lang=row.lang,
        values={},
    )


def load_values(
    conn: Connection, ids: Sequence[str], *, ring: Keyring
) -> dict[str, dict[str, Stored]]:
    if not ids:
        return {}
    result = conn.execute(
        select(
            field_values.c.draft_id,
            field_values.c.name,
            field_values.c.value,
            field_values.c.valid,
            field_values.c.error,
            field_values.c.step,
            field_values.c.sealed,
        ).where(field_values.c.draft_id.in_(list(ids)))
    )
    found: dict[str, dict[str, Stored]] = {}
    for row in result:
        value = ring.open(row.value) if row.sealed else row.value
        found.setdefault(row.draft_id, {})[row.name] = Stored(
            value, bool(row.valid), row.error, row.step
        )
    return found


def insert_drafts(conn: Connection, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(insert(drafts), rows)


def upsert_values(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Store values as typed (rows with "sealed" already hold sealed text); changed_at
    moves only when the stored text changed."""
    if rows:
        conn.execute(_UPSERT_VALUES[conn.dialect.name], rows)


def _upsert_values(dialect: Any) -> Any:
    stmt = dialect.insert(field_values)
    return stmt.on_conflict_do_update(
        index_elements=[field_values.c.draft_id, field_values.c.name],
        set_={
            "value": stmt.excluded.value,
            "sealed": stmt.excluded.sealed,
            "valid": stmt.excluded.valid,
            "error": stmt.excluded.error,
            "step": stmt.excluded.step,
            "changed_at": case(
                (field_values.c.value == stmt.excluded.value, field_values.c.changed_at),
                else_=stmt.excluded.changed_at,
            ),
        },
    )


# Built once for each database: every batch of the writer runs it, and building it (the
# `excluded` columns, the CASE) was half its cost in issue #14's profile.
_UPSERT_VALUES = {"sqlite": _upsert_values(sqlite), "postgresql": _upsert_values(postgresql)}
_INSERT_EVENTS = insert(events)


_UPDATE_DRAFT = (
    update(drafts)
    .where(drafts.c.id == bindparam("b_id"))
    .values(
        revision=bindparam("b_revision"),
        step=bindparam("b_step"),
        reached=bindparam("b_reached"),
        status=bindparam("b_status"),
        email=bindparam("b_email"),
        phone=bindparam("b_phone"),
        wants_showroom=bindparam("b_wants_showroom"),
        updated_at=bindparam("b_updated_at"),
        # A save that is not a resume or a completion keeps the earlier moment.
        resumed_at=func.coalesce(bindparam("b_resumed_at"), drafts.c.resumed_at),
        completed_at=func.coalesce(bindparam("b_completed_at"), drafts.c.completed_at),
        link_sent_at=bindparam("b_link_sent_at"),
        # A save by the shopper clears the exit: they are back (issue #4, stop rules).
        exit_at=bindparam("b_exit_at"),
        lang=bindparam("b_lang"),
    )
)


def update_drafts(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Write each draft's new state (rows keyed b_id, b_revision, ...)."""
    if rows:
        conn.execute(_UPDATE_DRAFT, rows)


def insert_events(conn: Connection, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(_INSERT_EVENTS, rows)


def insert_consents(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Record consents; one a draft already has for the same text version stands."""
    if rows:
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        conn.execute(
            dialect.insert(consents).on_conflict_do_nothing(
                index_elements=[consents.c.draft_id, consents.c.kind, consents.c.text_version]
            ),
            rows,
        )


async def carried_from(conn: AsyncConnection, origin_id: str, widget: str) -> str | None:
    """The draft of `widget` a draft was carried into, if any (the first one)."""
    result = await conn.execute(
        select(drafts.c.id)
        .where(drafts.c.origin_id == origin_id, drafts.c.widget == widget)
        .order_by(drafts.c.created_at)
        .limit(1)
    )
    return result.scalar_one_or_none()


async def revoke(conn: AsyncConnection, draft_id: str) -> bool:
    """Bump the version so every link and form credential issued so far stops working.

    The revision moves too, so no process trusts a cached copy from before.
    """
    result = await conn.execute(
        update(drafts)
        .where(drafts.c.id == draft_id)
        .values(version=drafts.c.version + 1, revision=drafts.c.revision + 1)
    )
    return result.rowcount == 1


async def sources(conn: AsyncConnection, draft_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Where each of these drafts' shoppers came from (resume.source) and the vehicle their
    page named (resume.page_vehicle), by draft id."""
    if not draft_ids:
        return {}
    names = (*source.COLUMNS, "page_vehicle")
    columns = [drafts.c[name] for name in names]
    rows = await conn.execute(select(drafts.c.id, *columns).where(drafts.c.id.in_(draft_ids)))
    return {row.id: {n: row._mapping[n] for n in names if row._mapping[n]} for row in rows}
