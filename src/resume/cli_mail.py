"""`resume lead status`, `resume suppress` and `resume outbox list|retry`: a lead's status and
the mail it gets, from the command line (moved out of cli.py, which was past 400 lines)."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from resume.cli_dealers import checked_email
from resume.errors import ConfigError
from resume.settings import Settings


def lead_status(settings: Settings, args: argparse.Namespace) -> int:
    from resume.queries import followups as followups_q

    async def change(conn: Any) -> int | None:
        return await followups_q.set_lead_status(conn, args.draft, args.status)

    stopped = asyncio.run(in_transaction(settings, change))
    if stopped is None:
        raise ConfigError(f"no draft {args.draft!r}")
    print(f"resume: {args.draft} is {args.status}; {stopped} queued follow-up(s) stopped")
    return 0


def suppress(settings: Settings, args: argparse.Namespace) -> int:
    from resume.queries import dealers as dealers_q
    from resume.queries import suppressions as suppressions_q

    address = checked_email(args.email)

    async def add(conn: Any) -> int:
        dealer = await dealers_q.get_by_slug(conn, args.dealer)
        if dealer is None:
            raise ConfigError(f"no dealer {args.dealer!r}")
        return await suppressions_q.add(conn, dealer.id, address, "manual")

    cancelled = asyncio.run(in_transaction(settings, add))
    print(
        f"resume: {address} suppressed for {args.dealer}; {cancelled} queued message(s) cancelled"
    )
    return 0


def outbox_list(settings: Settings, args: argparse.Namespace) -> int:
    from resume.queries import outbox as outbox_q

    async def listing(conn: Any) -> list[Any]:
        return await outbox_q.with_status(conn, args.status, limit=100)

    messages = asyncio.run(in_transaction(settings, listing))
    if not messages:
        print(f"No {args.status} messages.")
        return 0
    print(f"{'id':>8}  {'kind':12} {'to':32} {'attempts':>8}  {'due (UTC)':16}  last error")
    for message in messages:
        print(
            f"{message.id:>8}  {message.kind:12} {message.to_addr[:32]:32} {message.attempts:>8}"
            f"  {message.due_at:%Y-%m-%d %H:%M}  {(message.last_error or '')[:80]}"
        )
    return 0


def outbox_retry(settings: Settings, args: argparse.Namespace) -> int:
    from resume.queries import outbox as outbox_q

    async def retry(conn: Any) -> bool:
        return await outbox_q.retry(conn, args.message)

    if not asyncio.run(in_transaction(settings, retry)):
        raise ConfigError(f"message {args.message} is not dead (or does not exist)")
    print(f"resume: message {args.message} will be sent again")
    return 0


async def in_transaction(settings: Settings, work: Any) -> Any:
    from resume.db import Database

    db = Database(settings)
    try:
        async with db.write() as conn:
            return await work(conn)
    finally:
        await db.dispose()
