"""`resume dealer add|config|list`: setting up a dealership, every input checked before
anything is stored (its people: resume.cli_staff)."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
from typing import Any

import msgspec

from resume.dealers import Dealer, DealerConfig, Finance
from resume.dealers.checks import check_config, check_origin, check_slug, check_text
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


def demo(settings: Settings, args: argparse.Namespace) -> int:
    """`resume demo`: Demo Motors seeded (or brought up to date), and where to look."""
    from resume.demo import ADMIN, MANAGER, REP, demo_origin, seed_all
    from resume.migrations import migrate

    migrate(settings)
    seeded = asyncio.run(seed_all(settings))
    origin = demo_origin(settings.base_url)
    print("resume: demo dealership 'Demo Motors' " + ("created" if seeded.created else "is ready"))
    if seeded.replaced:
        print(f"  its dealer page moved to {origin} (was {', '.join(seeded.replaced)})")
    print(f"  dealer page (another origin): {origin}/demo")
    print(f"    with the other widgets:     {origin}/demo?widget=trade-in, ?widget=credit")
    print(f"  the widgets themselves:       {settings.base_url}/embed/demo-motors/payment")
    print(f"                                {settings.base_url}/embed/demo-motors/trade-in")
    print(f"                                {settings.base_url}/embed/demo-motors/credit")
    print(
        f"  mail kept on disk:            {settings.base_url}/mail"
        if not settings.smtp_url
        else "  mail goes to RESUME_SMTP_URL"
    )
    print(f"  the sales dashboard:          {settings.base_url}/dashboard/login")
    for email, label in ((ADMIN, "demo admin"), (MANAGER, "demo manager"), (REP, "demo rep")):
        link = seeded.invitations.get(email)
        if link:
            print(f"    {label} ({email}), invitation: {link}")
        else:
            print(f"    {label} ({email}) is set up: sign in with its password and code")
    return 0


def checked_email(value: str) -> str:
    from resume.fields import Field, clean

    checked = clean(Field(name="email", type="email", label="Email", max_length=320), value)
    if not checked.valid or not checked.value:
        raise ConfigError(f"{value!r} is not an email address")
    return str(checked.value)
