"""Engines for SQLite (aiosqlite) or PostgreSQL (asyncpg), behind one small Database object.

SQLite gets WAL, a busy timeout, the documented synchronous mode, foreign keys, and write
transactions that begin IMMEDIATE so two writers never deadlock on a lock upgrade (design
rule 8). Reads use a second engine whose transactions begin DEFERRED, so they never queue
behind the writer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from resume.settings import Settings

BUSY_TIMEOUT_MS = 5000


class Database:
    """The write engine and the read engine (the same one on PostgreSQL)."""

    def __init__(self, settings: Settings) -> None:
        self.url = make_url(settings.database_url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        if self.is_sqlite:
            self.engine = _sqlite_engine(settings, begin="BEGIN IMMEDIATE")
            self.reader = _sqlite_engine(settings, begin="BEGIN")
        else:
            self.engine = create_async_engine(
                settings.database_url, pool_size=10, max_overflow=10, pool_pre_ping=True
            )
            self.reader = self.engine

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """Open a write transaction, committed on success and rolled back on error."""
        async with self.engine.begin() as conn:
            yield conn

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """Open a read transaction."""
        async with self.reader.begin() as conn:
            yield conn

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.reader is not self.engine:
            await self.reader.dispose()


def _sqlite_engine(settings: Settings, *, begin: str) -> AsyncEngine:
    engine = create_async_engine(settings.database_url, pool_size=5, max_overflow=5)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the driver so BEGIN is ours to emit.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={settings.sqlite_synchronous}")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql(begin)

    return engine
