"""The mail the embedded default kept on disk, as its outbox rows record it (issue #13).

Without SMTP the worker's transport writes each message to a file and returns
"250 kept in NAME", which `mark_sent` stores as the row's reply. So the row ties a file to
its dealership and its recipient, and a page of kept mail is a page of rows: no file is
opened to decide who may see it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from resume.outbox import KEPT
from resume.tables import outbox

# What resume.mail.transport.FolderTransport answers for a message it kept.


class Kept(msgspec.Struct, frozen=True):
    id: int
    dealer_id: int
    kind: str
    to_addr: str
    message_id: str
    sent_at: dt.datetime | None
    name: str  # the file's name in the mail folder


_COLUMNS = (
    outbox.c.id,
    outbox.c.dealer_id,
    outbox.c.kind,
    outbox.c.to_addr,
    outbox.c.message_id,
    outbox.c.sent_at,
    outbox.c.reply,
)


def _kept(row: Any) -> Kept:
    return Kept(
        id=row.id,
        dealer_id=row.dealer_id,
        kind=row.kind,
        to_addr=row.to_addr,
        message_id=row.message_id,
        sent_at=row.sent_at,
        name=str(row.reply)[len(KEPT) :].strip(),
    )


def _scope(dealer_ids: tuple[int, ...], to_addr: str | None) -> list[Any]:
    where: list[Any] = [
        outbox.c.dealer_id.in_(dealer_ids),
        outbox.c.status == "sent",
        outbox.c.reply.like(KEPT + "%"),
    ]
    if to_addr is not None:
        where.append(func.lower(outbox.c.to_addr) == to_addr.lower())
    return where


async def page(
    conn: AsyncConnection,
    *,
    dealer_ids: tuple[int, ...],
    to_addr: str | None = None,
    before: int | None = None,
    limit: int = 50,
) -> list[Kept]:
    """Kept messages of these dealerships (only those to `to_addr`, if given), last sent
    first, a keyset page at a time (`before`: the last id of the page before)."""
    query = select(*_COLUMNS).where(*_scope(dealer_ids, to_addr))
    if before is not None:
        # The row named by `before` places the page; a follow-up sent days after it was
        # queued sorts by when it went, not by its id.
        when = select(outbox.c.sent_at).where(outbox.c.id == before).scalar_subquery()
        query = query.where(
            or_(outbox.c.sent_at < when, and_(outbox.c.sent_at == when, outbox.c.id < before))
        )
    result = await conn.execute(
        query.order_by(outbox.c.sent_at.desc(), outbox.c.id.desc()).limit(limit)
    )
    return [_kept(row) for row in result]


async def by_message_id(
    conn: AsyncConnection,
    message_id: str,
    *,
    dealer_ids: tuple[int, ...],
    to_addr: str | None = None,
) -> Kept | None:
    """The kept message with this Message-ID, if it is in the scope `page` would list."""
    query = select(*_COLUMNS).where(
        outbox.c.message_id == message_id,
        *_scope(dealer_ids, to_addr),
    )
    row = (await conn.execute(query)).first()
    return _kept(row) if row else None
