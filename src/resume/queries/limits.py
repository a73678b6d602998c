"""Limits that hold across processes: a fixed-window counter per key, one upsert a hit."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, case, delete, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from resume.tables import Timestamp, limits


async def blocked(conn: AsyncConnection, key: str, now: dt.datetime) -> bool:
    """Whether `key` is blocked now."""
    until = (
        await conn.execute(select(limits.c.blocked_until).where(limits.c.key == key))
    ).scalar_one_or_none()
    return until is not None and until > now


async def hit(
    conn: AsyncConnection,
    key: str,
    now: dt.datetime,
    *,
    window: dt.timedelta,
    limit: int,
    block_for: dt.timedelta,
) -> bool:
    """Count one hit of `key`; past `limit` hits in `window`, block it for `block_for`.
    Return whether this hit blocked it."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(limits).values(key=key[:200], window_start=now, hits=1)
    # Times are compared as bound values, never computed in SQL: SQLite keeps them as text.
    expired = limits.c.window_start < literal(now - window, Timestamp())
    stmt = stmt.on_conflict_do_update(
        index_elements=[limits.c.key],
        set_={
            "window_start": case(
                (expired, stmt.excluded.window_start), else_=limits.c.window_start
            ),
            "hits": case((expired, 1), else_=limits.c.hits + 1),
        },
    ).returning(limits.c.hits, limits.c.blocked_until)
    row = (await conn.execute(stmt)).one()
    if row.hits >= limit and (row.blocked_until is None or row.blocked_until <= now):
        await conn.execute(
            limits.update().where(limits.c.key == key[:200]).values(blocked_until=now + block_for)
        )
        return True
    return False


async def clear(conn: AsyncConnection, key: str) -> None:
    await conn.execute(delete(limits).where(limits.c.key == key[:200]))


def hit_many(
    conn: Connection, counts: dict[str, int], now: dt.datetime, *, window: dt.timedelta
) -> dict[str, int]:
    """Count `counts[key]` hits of each key in one statement; return each key's hits in its
    window after them (the autosave batch's per-draft limit: one statement a batch)."""
    if not counts:
        return {}
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(limits).values(
        [{"key": key[:200], "window_start": now, "hits": n} for key, n in sorted(counts.items())]
    )
    expired = limits.c.window_start < literal(now - window, Timestamp())
    stmt = stmt.on_conflict_do_update(
        index_elements=[limits.c.key],
        set_={
            "window_start": case(
                (expired, stmt.excluded.window_start), else_=limits.c.window_start
            ),
            "hits": case((expired, stmt.excluded.hits), else_=limits.c.hits + stmt.excluded.hits),
        },
    ).returning(limits.c.key, limits.c.hits)
    return {row.key: row.hits for row in conn.execute(stmt)}


def forget(conn: Connection, before: dt.datetime) -> int:
    """Drop counters whose window began before `before` and that block nothing now."""
    result = conn.execute(
        delete(limits).where(
            limits.c.window_start < literal(before, Timestamp()),
            (limits.c.blocked_until.is_(None))
            | (limits.c.blocked_until < literal(before, Timestamp())),
        )
    )
    return int(result.rowcount or 0)
