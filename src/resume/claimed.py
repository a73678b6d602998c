"""What the messages of one outbox claim share while the worker sends them (resume.worker):
the connections, the dealer and the drafts read at the claim."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from resume.db import Database
from resume.dealers import Dealer
from resume.keyring import Keyring
from resume.queries import dealers as dealers_q
from resume.queries import drafts as drafts_q
from resume.queries import outbox as outbox_q
from resume.queries.drafts import DraftState
from resume.queries.outbox import Message


class Held:
    """One connection kept for a whole batch, a transaction per use; dropped after an error,
    so the next message starts on a fresh one."""

    def __init__(self, engine: AsyncEngine, *, autocommit: bool) -> None:
        self.engine = engine
        self.autocommit = autocommit
        self.conn: AsyncConnection | None = None

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncConnection]:
        if self.conn is None:
            self.conn = await self.engine.connect()
            if self.autocommit:
                await self.conn.execution_options(isolation_level="AUTOCOMMIT")
        try:
            async with self.conn.begin():
                yield self.conn
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            await conn.close()  # back to the pool, which restores its isolation level


class Batch:
    """What the messages of one claim share (issue #4 bench: a message's reads and writes
    cost more than building and sending it).

    Shared: the drafts and their values, read at the claim (issue #14; each message reads
    its draft's row and the suppression list again at send, in one statement, and is marked
    sent before the next is sent), the dealer, and the connections, checked out (and pinged,
    on PostgreSQL) once a batch. On PostgreSQL one connection in autocommit does both: each
    statement has its own snapshot under READ COMMITTED either way, and the mark is one
    statement. SQLite keeps its two engines and transactions: a read there is one snapshot,
    and a write takes the lock with BEGIN IMMEDIATE (rule 8).
    """

    def __init__(self, db: Database) -> None:
        if db.is_sqlite:
            self.reads = Held(db.reader, autocommit=False)
            self.writes = Held(db.engine, autocommit=False)
        else:
            self.reads = self.writes = Held(db.engine, autocommit=True)
        self.dealers: dict[int, Dealer | None] = {}
        self.drafts: dict[str, DraftState] = {}  # as read at the claim

    async def draft(
        self, conn: AsyncConnection, message: Message, now_is: outbox_q.Recheck, ring: Keyring
    ) -> DraftState | None:
        """The message's draft as it is at send: its columns as just read again, its values
        as read at the claim unless a save came since (the revision moved), then read anew."""
        if message.draft_id is None or now_is.draft is None:
            return None
        claimed = self.drafts.get(message.draft_id)
        if claimed is not None and claimed.revision == now_is.draft.revision:
            return msgspec.structs.replace(now_is.draft, values=claimed.values)
        return await drafts_q.load(conn, message.draft_id, ring=ring)

    async def dealer(self, conn: AsyncConnection, dealer_id: int) -> Dealer | None:
        if dealer_id not in self.dealers:
            self.dealers[dealer_id] = await dealers_q.get(conn, dealer_id)
        return self.dealers[dealer_id]

    async def close(self) -> None:
        await self.reads.close()
        await self.writes.close()
