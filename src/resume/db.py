"""Engines for SQLite (aiosqlite) or PostgreSQL (asyncpg), behind one small Database object.

SQLite gets WAL, a busy timeout, the documented synchronous mode, foreign keys, and write
transactions that begin IMMEDIATE so two writers never deadlock on a lock upgrade (design
rule 8). Reads use a second engine whose transactions begin DEFERRED, so they never queue
behind the writer.

`run_write` runs one synchronous Core function in a write transaction: on PostgreSQL through
the async engine (SQLAlchemy's run_sync), on SQLite in one thread of its own with the
standard library driver. The autosave writer's batch is several statements; through aiosqlite
each is a round trip between the event loop and aiosqlite's thread, and under load each round
trip waits behind every request the loop is serving (issue #2 bench: 16 ms a transaction at
32 connections). In its own thread the whole batch is one hand-off.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from resume.errors import Unavailable
from resume.i18n import lazy
from resume.settings import Settings

T = TypeVar("T")

BUSY_TIMEOUT_MS = 5000
UNAVAILABLE = lazy(
    "We couldn't save just now: our database didn't answer. Nothing from this press was "
    "saved; please press the button again in a moment. Your earlier answers are safe."
)


def unavailable(exc: BaseException) -> bool:
    """Whether an error means the database can't be used just now (down, restarting, full,
    read-only), rather than a mistake in what we asked of it (issue #12)."""
    if isinstance(exc, OperationalError | InterfaceError):
        return True
    if isinstance(exc, DBAPIError) and (exc.connection_invalidated or _down(exc.orig)):
        return True
    # A refused or reset connection can surface from the driver before SQLAlchemy wraps it.
    return isinstance(exc, OSError | TimeoutError)


# PostgreSQL's SQLSTATEs for a server that can't serve now: connection exceptions (class 08),
# shutting down or starting up (57P01-57P03), and too many connections (53300).
_DOWN_STATES = frozenset({"57P01", "57P02", "57P03", "53300"})


def _down(error: BaseException | None) -> bool:
    for found in (error, getattr(error, "__cause__", None)):
        state = getattr(found, "sqlstate", None) or getattr(found, "pgcode", None)
        if isinstance(state, str) and (state.startswith("08") or state in _DOWN_STATES):
            return True
    return False


class Database:
    """The write engine and the read engine (the same one on PostgreSQL)."""

    def __init__(self, settings: Settings) -> None:
        self.url = make_url(settings.database_url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        self._thread: ThreadPoolExecutor | None = None
        self._sync: Engine | None = None
        if self.is_sqlite:
            self.engine = _sqlite_engine(settings, begin="BEGIN IMMEDIATE")
            self.reader = _sqlite_engine(settings, begin="BEGIN")
            self._settings = settings
        else:
            self.engine = create_async_engine(
                settings.database_url, pool_size=10, max_overflow=10, pool_pre_ping=True
            )
            self.reader = self.engine

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """Open a write transaction, committed on success and rolled back on error. A database
        that can't be used just now is `Unavailable` (a 503 page), never a traceback."""
        try:
            async with self.engine.begin() as conn:
                yield conn
        except Exception as exc:
            if unavailable(exc):
                await self.reconnect()
                raise Unavailable(str(UNAVAILABLE)) from exc
            raise

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """Open a read transaction (`Unavailable` as `write` says)."""
        try:
            async with self.reader.begin() as conn:
                yield conn
        except Exception as exc:
            if unavailable(exc):
                await self.reconnect()
                raise Unavailable(str(UNAVAILABLE)) from exc
            raise

    async def run_write(self, work: Callable[..., T], *args: Any) -> T:
        """Run `work(connection, *args)` in a write transaction and return what it returns."""
        try:
            if not self.is_sqlite:
                async with self.engine.begin() as conn:
                    return await conn.run_sync(work, *args)
            if self._thread is None:
                self._thread = ThreadPoolExecutor(1, thread_name_prefix="resume-sqlite-writer")
                self._sync = _sqlite_sync_engine(self._settings)
            return await asyncio.get_running_loop().run_in_executor(
                self._thread, self._in_thread, work, args
            )
        except Exception as exc:
            if unavailable(exc):
                await self.reconnect()
                raise Unavailable(str(UNAVAILABLE)) from exc
            raise

    async def reconnect(self) -> None:
        """Let the next use open fresh connections. PostgreSQL's pool pre-pings; an SQLite
        connection opened while its disk was read-only stays read-only until it is reopened."""
        if not self.is_sqlite:
            return
        if self._sync is not None:
            self._sync.dispose()
        await self.engine.dispose()
        if self.reader is not self.engine:
            await self.reader.dispose()

    def _in_thread(self, work: Callable[..., T], args: tuple[Any, ...]) -> T:
        assert self._sync is not None
        with self._sync.begin() as conn:
            return work(conn, *args)

    async def dispose(self) -> None:
        if self._thread is not None:
            self._thread.shutdown(wait=True)
            self._thread = None
        if self._sync is not None:
            self._sync.dispose()
            self._sync = None
        await self.engine.dispose()
        if self.reader is not self.engine:
            await self.reader.dispose()


def _sqlite_engine(settings: Settings, *, begin: str) -> AsyncEngine:
    engine = create_async_engine(settings.database_url, pool_size=5, max_overflow=5)
    _configure_sqlite(engine.sync_engine, settings, begin)
    return engine


def _sqlite_sync_engine(settings: Settings) -> Engine:
    url = make_url(settings.database_url).set(drivername="sqlite+pysqlite")
    # Used by the one writer thread only; the pool keeps its single connection open.
    engine = create_engine(
        url, pool_size=1, max_overflow=0, connect_args={"check_same_thread": False}
    )
    _configure_sqlite(engine, settings, "BEGIN IMMEDIATE")
    return engine


def _configure_sqlite(engine: Engine, settings: Settings, begin: str) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the driver so BEGIN is ours to emit.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={settings.sqlite_synchronous}")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql(begin)
