"""`resume dealer add|config` and `resume staff add|invite`: setting up a dealership and its people,
every input checked before anything is stored."""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import msgspec

from resume.dashboard.accounts import INVITE_HOURS
from resume.dealers import (
    Dealer,
    DealerConfig,
    Finance,
    check_config,
    check_origin,
    check_slug,
    check_text,
)
from resume.errors import ConfigError
from resume.settings import Settings


def dealer_add(settings: Settings, args: argparse.Namespace) -> int:
    finance = Finance()
    if args.finance_json:
        try:
            finance = msgspec.convert(json.loads(args.finance_json), Finance, strict=False)
        except (ValueError, msgspec.ValidationError) as exc:
            raise ConfigError(f"--finance-json is not valid: {exc}") from None
    if args.tax_rate is not None:
        finance = msgspec.structs.replace(finance, tax_rate=args.tax_rate)
    if args.doc_fee is not None:
        finance = msgspec.structs.replace(finance, doc_fee=args.doc_fee)
    config = check_config(
        DealerConfig(
            finance=finance,
            contact_before_result=args.contact_before_result,
            resume_link_days=args.resume_link_days,
        )
    )
    dealer = asyncio.run(
        _add_dealer(
            settings,
            check_slug(args.slug),
            check_text("name", args.name, 200),
            args.email,
            check_text("postal address", args.address, 500),
            check_text("phone", args.phone, 32, required=False),
            args.timezone,
            tuple(check_origin(o) for o in args.origin),
            config,
        )
    )
    print(f"resume: added {dealer.name} ({dealer.slug})")
    print(f"  embed: {settings.base_url}/embed/{dealer.slug}/payment")
    return 0


def dealer_config(settings: Settings, args: argparse.Namespace) -> int:
    changes: dict[str, Any] = {}
    if args.changes:
        try:
            changes = json.loads(args.changes)
        except ValueError as exc:
            raise ConfigError(f"--set is not JSON: {exc}") from None
        if not isinstance(changes, dict):
            raise ConfigError("--set takes a JSON object of settings")
    shown = asyncio.run(_change_config(settings, args.slug, changes))
    print(json.dumps(shown, indent=2, sort_keys=True))
    return 0


async def _change_config(settings: Settings, slug: str, changes: dict[str, Any]) -> Any:
    """Merge `changes` into the stored settings (one level into each section), check the
    result as `dealer add` does, store it, and return it."""
    from resume.db import Database
    from resume.queries import dealers as dealers_q

    db = Database(settings)
    try:
        async with db.write() as conn:
            stored = await dealers_q.raw_config(conn, slug)
            if stored is None:
                raise ConfigError(f"no dealership {slug!r}")
            merged = dict(stored)
            for key, value in changes.items():
                section = merged.get(key)
                if isinstance(value, dict) and isinstance(section, dict):
                    merged[key] = {**section, **value}
                else:
                    merged[key] = value
            try:
                config = check_config(msgspec.convert(merged, DealerConfig, strict=False))
            except msgspec.ValidationError as exc:
                raise ConfigError(f"the settings are not valid: {exc}") from None
            if changes:
                await dealers_q.set_config(conn, slug, config)
            return msgspec.to_builtins(config)
    finally:
        await db.dispose()


async def _add_dealer(
    settings: Settings,
    slug: str,
    name: str,
    email: str,
    address: str,
    phone: str,
    timezone: str,
    origins: tuple[str, ...],
    config: DealerConfig,
) -> Dealer:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from resume.db import Database
    from resume.queries import dealers as dealers_q

    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"unknown timezone {timezone!r}; use a name like America/Chicago"
        ) from None
    checked = checked_email(email)
    db = Database(settings)
    try:
        async with db.write() as conn:
            if await dealers_q.get_by_slug(conn, slug):
                raise ConfigError(f"a dealer {slug!r} already exists")
            return await dealers_q.add(
                conn,
                slug=slug,
                name=name,
                lead_email=checked,
                address=address,
                phone=phone,
                timezone=timezone,
                origins=origins,
                config=config,
            )
    finally:
        await db.dispose()


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


def checked_email(value: str) -> str:
    from resume.fields import Field, clean

    checked = clean(Field(name="email", type="email", label="Email", max_length=320), value)
    if not checked.valid or not checked.value:
        raise ConfigError(f"{value!r} is not an email address")
    return str(checked.value)
