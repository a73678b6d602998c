"""`resume dealer add|config` and `resume staff add|invite`: setting up a dealership and its people,
every input checked before anything is stored."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
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
        ),
        tuple(check_origin(o) for o in args.origin),
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
    print(
        "  Paste a widget into any page of "
        + " or ".join(dealer.origins)
        + " (900 px tall shows the longest step on a phone):"
    )
    for line in snippets(settings, dealer.slug):
        print(f"  {line}")
    return 0


def snippets(settings: Settings, slug: str) -> list[str]:
    """A copy-ready <iframe> for each widget this installation serves, as the README's."""
    from resume import embed
    from resume.catalog import Catalog

    lines = []
    for widget in Catalog.load().widgets.values():
        src = embed.url(settings.base_url, slug, widget.slug)
        lines += [f"{widget.title}: {src}", f"  {embed.iframe(src, widget.title)}"]
    return lines


def dealer_list(settings: Settings, args: argparse.Namespace) -> int:
    dealers = asyncio.run(_dealers(settings))
    if not dealers:
        print("resume: No dealerships yet. Add one with `resume dealer add SLUG --name ...`.")
        return 0
    width = max(len(d.slug) for d in dealers)
    print(f"{'slug':{width}}  {'name':30}  {'lead inbox':32}  {'timezone':20}  origins")
    for d in dealers:
        print(
            f"{d.slug:{width}}  {d.name[:30]:30}  {d.lead_email[:32]:32}  {d.timezone:20}  "
            + " ".join(d.origins)
        )
    return 0


async def _dealers(settings: Settings) -> list[Dealer]:
    from resume.db import Database
    from resume.queries import dealers as dealers_q

    db = Database(settings)
    try:
        async with db.read() as conn:
            return await dealers_q.all_dealers(conn)
    finally:
        await db.dispose()


def dealer_config(settings: Settings, args: argparse.Namespace) -> int:
    changes: dict[str, Any] = {}
    if args.changes:
        try:
            changes = json.loads(args.changes)
        except ValueError as exc:
            raise ConfigError(f"--set is not JSON: {exc}") from None
        if not isinstance(changes, dict):
            raise ConfigError("--set takes a JSON object of settings")
        if "origins" in changes:
            raise ConfigError("origins are changed with --add-origin URL and --remove-origin URL")
    added = tuple(check_origin(o) for o in args.add_origin or ())
    removed = tuple(check_origin(o) for o in args.remove_origin or ())
    logo = _logo_file(args)
    shown = asyncio.run(_change_config(settings, args.slug, changes, added, removed, logo))
    print(json.dumps(shown, indent=2, sort_keys=True))
    return 0


def logo_arguments(config: argparse.ArgumentParser) -> None:
    """`dealer config`'s logo file options (issue #11, item 4)."""
    from resume.logos import ACCEPTED, MAX_BYTES

    logo = config.add_mutually_exclusive_group()
    logo.add_argument(
        "--logo-file",
        metavar="PATH",
        help=f"keep this {ACCEPTED} image (at most {MAX_BYTES // 1024} KB) as the widgets' "
        "logo, served from this server",
    )
    logo.add_argument("--remove-logo-file", action="store_true", help="stop showing the file")


def _logo_file(args: argparse.Namespace) -> Any:
    """The checked image `--logo-file` names, None for `--remove-logo-file`, else False."""
    from resume.errors import ResumeError
    from resume.logos import MAX_BYTES, check_logo_file

    if args.remove_logo_file:
        return None
    if not args.logo_file:
        return False
    try:
        with open(args.logo_file, "rb") as file:
            body = file.read(MAX_BYTES + 1)  # past the most: refused unread
        return check_logo_file(body)
    except OSError as exc:
        raise ConfigError(f"--logo-file: can't read {args.logo_file}: {exc.strerror}") from None
    except ResumeError as exc:
        raise ConfigError(f"--logo-file: {exc.message}") from None


async def _change_config(
    settings: Settings,
    slug: str,
    changes: dict[str, Any],
    added: tuple[str, ...] = (),
    removed: tuple[str, ...] = (),
    logo: Any = False,
) -> Any:
    """Merge `changes` into the stored settings (one level into each section), add and
    remove embed origins, store or remove the logo file (`logo`: a LogoFile, None, or False
    to leave it), check the result as `dealer add` does, store it with its audit rows (what
    it was, what it became), and return it with the origins and the logo file's digest."""
    from resume.dashboard.dealership import change_origins
    from resume.dashboard.logo import change_logo
    from resume.db import Database
    from resume.queries import audit as audit_q
    from resume.queries import dealers as dealers_q
    from resume.queries import logos as logos_q

    db = Database(settings)
    now = dt.datetime.now(dt.UTC)
    try:
        async with db.write() as conn:
            stored = await dealers_q.raw_config(conn, slug)
            if stored is None:
                raise ConfigError(f"no dealership {slug!r}")
            new_origins = await change_origins(conn, slug, added=added, removed=removed)
            found = await dealers_q.raw_origins(conn, slug)
            assert found is not None
            dealer_id = found[0]
            merged = dict(stored)
            for key, value in changes.items():
                section = merged.get(key)
                if isinstance(value, dict) and isinstance(section, dict):
                    merged[key] = {**section, **value}
                else:
                    merged[key] = value
            try:
                config = check_config(
                    msgspec.convert(merged, DealerConfig, strict=False), tuple(new_origins)
                )
            except msgspec.ValidationError as exc:
                raise ConfigError(f"the settings are not valid: {exc}") from None
            if changes:
                await dealers_q.set_config(conn, slug, config)
                after = msgspec.to_builtins(config)
                await audit_q.record(
                    conn,
                    "settings_changed",
                    at=now,
                    dealer_id=dealer_id,
                    subject=f"dealer:{slug}",
                    detail={
                        "before": {k: stored.get(k) for k in changes},
                        "after": {k: after.get(k) for k in changes},
                        "by": "command line",
                    },
                )
            if logo is not False:
                await change_logo(conn, dealer_id, slug, logo, staff_id=None)
            kept = await logos_q.digest(conn, dealer_id)
            return {**msgspec.to_builtins(config), "origins": new_origins, "logo_file": kept}
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
