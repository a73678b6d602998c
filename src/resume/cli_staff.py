"""`resume staff add|invite|list|disable`: a dealership's people, every input checked before
anything is stored."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from resume.cli_dealers import checked_email
from resume.dashboard.accounts import INVITE_HOURS
from resume.errors import ConfigError
from resume.settings import Settings


def staff_add(settings: Settings, args: argparse.Namespace) -> int:
    link = asyncio.run(_add_staff(settings, args.email, tuple(args.dealer), args.role))
    print(
        f"resume: invited {args.email.strip().lower()} to {', '.join(args.dealer)} as {args.role}"
    )
    print(f"  invitation (one use, {INVITE_HOURS} hours): {link}")
    return 0


def staff_invite(settings: Settings, args: argparse.Namespace) -> int:
    link = asyncio.run(_reinvite(settings, args.email))
    email = args.email.strip().lower()
    print(f"resume: a fresh invitation for {email} (the older one no longer works)")
    print(f"  invitation (one use, {INVITE_HOURS} hours): {link}")
    return 0


def staff_list(settings: Settings, args: argparse.Namespace) -> int:
    rows = asyncio.run(_staff_list(settings, args.dealer))
    if not rows:
        print("resume: no staff accounts" + (f" for {args.dealer}" if args.dealer else ""))
        return 0
    print(f"{'email':40} {'role':8} {'status':9} {'away':5} dealerships")
    for email, role, status, away, slugs in rows:
        print(f"{email:40} {role:8} {status:9} {'yes' if away else 'no':5} {', '.join(slugs)}")
    return 0


async def _staff_list(settings: Settings, slug: str | None) -> list[tuple[Any, ...]]:
    from resume.queries import dealers as dealers_q
    from resume.queries import staff as staff_q

    async with _accounts(settings) as accounts, accounts.db.read() as conn:
        dealers = await dealers_q.all_dealers(conn)
        if slug and not any(d.slug == slug for d in dealers):
            raise ConfigError(f"no dealer {slug!r}")
        ids = tuple(d.id for d in dealers if not slug or d.slug == slug)
        slugs = {d.id: d.slug for d in dealers}
        found = []
        for member in await staff_q.team(conn, ids):
            account = await staff_q.get(conn, member.id)
            assert account is not None
            covered = [slugs[d] for d in account.dealer_ids if d in slugs]
            found.append((member.email, member.role, member.status, member.away, covered))
        return found


def staff_disable(settings: Settings, args: argparse.Namespace) -> int:
    ended = asyncio.run(_disable(settings, args.email))
    print(f"resume: {args.email.strip().lower()} is disabled; {ended} session(s) ended")
    return 0


async def _disable(settings: Settings, email: str) -> int:
    import datetime as dt

    from resume.queries import audit as audit_q
    from resume.queries import sessions as sessions_q
    from resume.queries import staff as staff_q

    async with _accounts(settings) as accounts, accounts.db.write() as conn:
        account = await staff_q.by_email(conn, checked_email(email))
        if account is None:
            raise ConfigError(f"no account for {email!r}")
        now = dt.datetime.now(dt.UTC)
        await staff_q.change(conn, account.id, status="disabled", invite_nonce=None)
        ended = await sessions_q.end_all(conn, account.id, now, "disabled")
        await audit_q.record(
            conn,
            "staff_disabled",
            at=now,
            subject=f"staff:{account.id}",
            detail={"count": ended, "by": "command line"},
        )
        return ended


async def _add_staff(settings: Settings, email: str, slugs: tuple[str, ...], role: str) -> str:
    from resume.queries import dealers as dealers_q
    from resume.queries import staff as staff_q

    address = checked_email(email).lower()
    async with _accounts(settings) as accounts:
        async with accounts.db.read() as conn:
            ids = []
            for slug in dict.fromkeys(slugs):
                dealer = await dealers_q.get_by_slug(conn, slug)
                if dealer is None:
                    raise ConfigError(f"no dealer {slug!r}; add it with `resume dealer add`")
                ids.append(dealer.id)
            if await staff_q.by_email(conn, address) is not None:
                raise ConfigError(
                    f"{address} already has an account; `resume staff invite {address}` "
                    "issues a fresh invitation"
                )
        return await accounts.invite(address, role, tuple(ids))


async def _reinvite(settings: Settings, email: str) -> str:
    from resume.errors import ResumeError

    async with _accounts(settings) as accounts:
        try:
            return await accounts.reinvite(checked_email(email).lower())
        except ResumeError as exc:
            raise ConfigError(exc.message) from None


@asynccontextmanager
async def _accounts(settings: Settings) -> AsyncIterator[Any]:
    """The account service on a database of its own, for one command."""
    from resume.dashboard.accounts import Accounts
    from resume.db import Database
    from resume.keyring import Keyring
    from resume.tokens import Signer

    db = Database(settings)
    try:
        yield Accounts(settings, db, Keyring(settings.data_keys), Signer(settings.secret_keys))
    finally:
        await db.dispose()
