"""Staff sessions, kept server-side: the cookie holds a token, the table its hash."""

from __future__ import annotations

import datetime as dt

import msgspec
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from resume.tables import staff_sessions


class Session(msgspec.Struct, frozen=True):
    id: str  # the token's hash
    staff_id: int
    mfa_done: bool
    csrf: str
    created_at: dt.datetime
    last_seen_at: dt.datetime
    reauth_at: dt.datetime
    ended_at: dt.datetime | None
    ip: str
    user_agent: str


def _session(row: object) -> Session:
    m = row._mapping  # type: ignore[attr-defined]
    return Session(
        id=m["id"],
        staff_id=m["staff_id"],
        mfa_done=bool(m["mfa_done"]),
        csrf=m["csrf"],
        created_at=m["created_at"],
        last_seen_at=m["last_seen_at"],
        reauth_at=m["reauth_at"],
        ended_at=m["ended_at"],
        ip=m["ip"],
        user_agent=m["user_agent"],
    )


async def add(
    conn: AsyncConnection,
    *,
    token_hash: str,
    staff_id: int,
    mfa_done: bool,
    csrf: str,
    now: dt.datetime,
    ip: str,
    user_agent: str,
) -> None:
    await conn.execute(
        insert(staff_sessions).values(
            id=token_hash,
            staff_id=staff_id,
            mfa_done=mfa_done,
            csrf=csrf,
            created_at=now,
            last_seen_at=now,
            reauth_at=now,
            ip=ip[:64],
            user_agent=user_agent[:500],
        )
    )


async def get(conn: AsyncConnection, token_hash: str) -> Session | None:
    row = (
        await conn.execute(select(staff_sessions).where(staff_sessions.c.id == token_hash))
    ).first()
    return _session(row) if row else None


async def seen(conn: AsyncConnection, token_hash: str, now: dt.datetime) -> None:
    await conn.execute(
        update(staff_sessions)
        .where(staff_sessions.c.id == token_hash, staff_sessions.c.ended_at.is_(None))
        .values(last_seen_at=now)
    )


async def reauthenticated(conn: AsyncConnection, token_hash: str, now: dt.datetime) -> None:
    await conn.execute(
        update(staff_sessions).where(staff_sessions.c.id == token_hash).values(reauth_at=now)
    )


async def end(conn: AsyncConnection, token_hash: str, now: dt.datetime, why: str) -> bool:
    result = await conn.execute(
        update(staff_sessions)
        .where(staff_sessions.c.id == token_hash, staff_sessions.c.ended_at.is_(None))
        .values(ended_at=now, ended_why=why)
    )
    return result.rowcount == 1


async def end_all(
    conn: AsyncConnection, staff_id: int, now: dt.datetime, why: str, *, keep: str = ""
) -> int:
    """End every open session of an account (but `keep`); return how many."""
    result = await conn.execute(
        update(staff_sessions)
        .where(
            staff_sessions.c.staff_id == staff_id,
            staff_sessions.c.ended_at.is_(None),
            staff_sessions.c.id != keep,
        )
        .values(ended_at=now, ended_why=why)
    )
    return int(result.rowcount or 0)


async def open_for(conn: AsyncConnection, staff_id: int) -> list[Session]:
    """An account's sessions not ended, newest first (expired ones included: they end when
    next used)."""
    result = await conn.execute(
        select(staff_sessions)
        .where(staff_sessions.c.staff_id == staff_id, staff_sessions.c.ended_at.is_(None))
        .order_by(staff_sessions.c.created_at.desc())
    )
    return [_session(row) for row in result]


async def end_of(
    conn: AsyncConnection, staff_id: int, token_hash: str, now: dt.datetime, why: str
) -> Session | None:
    """End one open session of account `staff_id` (another account's is left alone);
    return it as it was, or None if there was no such open session."""
    row = (
        await conn.execute(
            select(staff_sessions).where(
                staff_sessions.c.id == token_hash,
                staff_sessions.c.staff_id == staff_id,
                staff_sessions.c.ended_at.is_(None),
            )
        )
    ).first()
    if row is None or not await end(conn, token_hash, now, why):
        return None
    return _session(row)
