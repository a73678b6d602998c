"""The `resume` command: serve, worker, migrate, keys, demo, lead, suppress, outbox, purge,
backup, restore; the dealer and staff commands are in `cli_dealers`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy.exc import DBAPIError

from resume import cli_dealers, cli_mail, cli_staff, heap, logs
from resume.errors import ConfigError, Unavailable
from resume.queries.followups import LEAD_STATUSES
from resume.settings import SPECS, Settings

log = logging.getLogger("resume")

ROLES = ("admin", "manager", "sales", "bdc")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
        logs.configure(settings.log_level, settings.log_format)
        return int(args.run(settings, args) or 0)
    except ConfigError as exc:
        print(f"resume: {exc.message}", file=sys.stderr)
        return 2
    except (OSError, DBAPIError, Unavailable) as exc:
        # A database that is down or refuses us is the operator's to fix: say which one.
        shown = repr(settings) if "settings" in locals() else "RESUME_DATABASE_URL"
        detail = exc.__cause__ if isinstance(exc, Unavailable) and exc.__cause__ else exc
        print(f"resume: cannot use the database ({shown}): {detail}", file=sys.stderr)
        return 3


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="resume",
        description="Embeddable dealership widgets that keep every answer.",
        epilog="Settings come from the environment: "
        + ", ".join(spec.env for spec in SPECS)
        + ". See README.md.",
    )
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="run the web server (and an outbox worker)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--no-worker", action="store_true", help="do not send mail from here")
    serve.set_defaults(run=_serve)

    sub.add_parser("worker", help="run an outbox worker alone").set_defaults(run=_worker)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(run=_migrate)

    keys = sub.add_parser("keys", help="the keys that encrypt personal data").add_subparsers(
        required=True, metavar="ACTION"
    )
    keys.add_parser("new", help="print a fresh key for RESUME_DATA_KEYS").set_defaults(
        run=_keys_new
    )
    keys.add_parser(
        "rotate", help="re-encrypt everything with the newest key in RESUME_DATA_KEYS"
    ).set_defaults(run=_keys_rotate)

    dealer = sub.add_parser("dealer", help="manage dealerships").add_subparsers(
        required=True, metavar="ACTION"
    )
    add = dealer.add_parser("add", help="add a dealership")
    add.add_argument("slug")
    add.add_argument("--name", required=True)
    add.add_argument("--email", required=True, help="lead inbox")
    add.add_argument("--address", required=True, help="postal address, shown in every email")
    add.add_argument(
        "--origin",
        action="append",
        required=True,
        help="a site allowed to embed the widgets, e.g. https://www.example.com",
    )
    add.add_argument("--phone", default="")
    add.add_argument("--timezone", default="America/New_York")
    add.add_argument("--tax-rate", type=_number, help="sales tax percent, e.g. 6.25")
    add.add_argument("--doc-fee", type=_number, help="documentation fee in dollars")
    add.add_argument("--finance-json", help="the whole finance table as JSON (see README)")
    add.add_argument(
        "--contact-before-result",
        action="store_true",
        help="ask for contact before showing the payment",
    )
    add.add_argument("--resume-link-days", type=int, default=30)
    add.set_defaults(run=cli_dealers.dealer_add)

    config = dealer.add_parser(
        "config", help="show a dealership's settings, or change some with --set JSON"
    )
    config.add_argument("slug")
    config.add_argument(
        "--set",
        dest="changes",
        help='settings to change, e.g. \'{"trade_in": {"offer_hours": 2}, "retention_days": 180}\'',
    )
    config.add_argument(
        "--add-origin", action="append", metavar="ORIGIN", help="allow another site to embed"
    )
    config.add_argument(
        "--remove-origin", action="append", metavar="ORIGIN", help="stop a site embedding"
    )
    cli_dealers.logo_arguments(config)
    config.set_defaults(run=cli_dealers.dealer_config)
    dealer.add_parser("list", help="list the dealerships, with their origins").set_defaults(
        run=cli_dealers.dealer_list
    )

    staff = sub.add_parser("staff", help="manage staff accounts").add_subparsers(
        required=True, metavar="ACTION"
    )
    staff_add = staff.add_parser(
        "add", help="invite a staff member: prints a one-time link to set a password and MFA"
    )
    staff_add.add_argument("email")
    staff_add.add_argument(
        "--dealer", required=True, action="append", help="a dealership covered (repeatable)"
    )
    staff_add.add_argument("--role", required=True, choices=ROLES)
    staff_add.set_defaults(run=cli_staff.staff_add)
    invite = staff.add_parser("invite", help="issue a fresh invitation link (the older one stops)")
    invite.add_argument("email")
    invite.set_defaults(run=cli_staff.staff_invite)
    staff_list = staff.add_parser("list", help="list staff accounts, their roles and dealerships")
    staff_list.add_argument("--dealer", help="only this dealership")
    staff_list.set_defaults(run=cli_staff.staff_list)
    disable = staff.add_parser("disable", help="disable an account and end its sessions")
    disable.add_argument("email")
    disable.set_defaults(run=cli_staff.staff_disable)

    demo = sub.add_parser("demo", help="seed the demo dealership and print where to look")
    demo.set_defaults(run=cli_dealers.demo)

    lead = sub.add_parser("lead", help="the sales team's side of a lead").add_subparsers(
        required=True, metavar="ACTION"
    )
    status = lead.add_parser("status", help="record a lead's status; past 'new' stops follow-up")
    status.add_argument("draft")
    status.add_argument("status", choices=LEAD_STATUSES)
    status.set_defaults(run=cli_mail.lead_status)

    suppress = sub.add_parser("suppress", help="never email an address for a dealership again")
    suppress.add_argument("email")
    suppress.add_argument("--dealer", required=True)
    suppress.set_defaults(run=cli_mail.suppress)

    purge = sub.add_parser(
        "purge", help="delete drafts past each dealer's retention period, and say what went"
    )
    purge.add_argument("--dealer", help="only this dealership")
    purge.add_argument("--dry-run", action="store_true", help="count, delete nothing")
    purge.set_defaults(run=_purge)

    backup = sub.add_parser(
        "backup", help="copy the SQLite database to PATH, safely while the server runs"
    )
    backup.add_argument("path")
    backup.add_argument("--force", action="store_true", help="replace PATH if it exists")
    backup.set_defaults(run=_backup)
    restore = sub.add_parser("restore", help="check a backup and say how to bring it back")
    restore.add_argument("path")
    restore.set_defaults(run=_restore)

    outbox = sub.add_parser("outbox", help="look at and retry outgoing mail").add_subparsers(
        required=True, metavar="ACTION"
    )
    listing = outbox.add_parser("list", help="list messages, newest first")
    listing.add_argument(
        "--status", default="dead", choices=("pending", "sent", "dead", "stopped", "suppressed")
    )
    listing.set_defaults(run=cli_mail.outbox_list)
    retry = outbox.add_parser("retry", help="send a dead message again")
    retry.add_argument("message", type=int)
    retry.set_defaults(run=cli_mail.outbox_retry)
    return parser


def _number(value: str) -> Decimal:
    """A decimal for argparse: what it cannot read is a usage error, not a traceback."""
    try:
        number = Decimal(value)
    except ArithmeticError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if not number.is_finite():
        raise argparse.ArgumentTypeError(f"{value!r} is not a number")
    return number


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from resume.web.app import create_app

    if settings.is_sqlite:
        from resume.dashboard.funnel import count_stored_drafts
        from resume.migrations import migrate

        migrate(settings)
        asyncio.run(count_stored_drafts(settings))
    # A wrong data key stops here with a message, before anything is served.
    asyncio.run(_check_keys(settings))
    app = create_app(settings, run_worker=not args.no_worker)
    _metrics_port(settings)
    heap.settle()  # the app is built: its objects stay out of the collector's passes
    print(
        f"resume: serving on http://{args.host}:{args.port} (public URL {settings.base_url})",
        flush=True,
    )
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level="warning",
        # Our own log set-up for uvicorn's lines too (text or JSON), and our own access line,
        # with the request id and the route (resume.web.app.App).
        log_config=None,
        access_log=False,
        # uvicorn believes X-Forwarded-For from 127.0.0.1 unless told: we believe no proxy
        # but those named, so a client can't choose the address that rate limits and consent
        # records see (issue #12).
        proxy_headers=bool(settings.forwarded_allow_ips),
        forwarded_allow_ips=settings.forwarded_allow_ips or None,
    )
    return 0


def _worker(settings: Settings, args: argparse.Namespace) -> int:
    from resume.worker import run_worker

    asyncio.run(_check_keys(settings))
    _metrics_port(settings)
    heap.settle()
    asyncio.run(run_worker(settings, install_signals=True))
    return 0


def _metrics_port(settings: Settings) -> None:
    """Serve the metrics on RESUME_METRICS_PORT, if set, from a thread of this process."""
    if not settings.metrics_port:
        return
    from resume import metrics

    metrics.serve_on_port(settings.metrics_port, settings.metrics_address)
    print(
        f"resume: metrics on http://{settings.metrics_address}:{settings.metrics_port}/metrics",
        flush=True,
    )


async def _check_keys(settings: Settings) -> None:
    from resume.datakeys import prepare
    from resume.db import Database

    db = Database(settings)
    try:
        await prepare(db, settings.data_keys)
    except (DBAPIError, Unavailable) as exc:
        # The database layer says Unavailable for an error that means "can't be used now";
        # its cause says which (a missing table is a database to migrate).
        cause = str(exc.__cause__ or exc)
        if "meta" in cause and ("no such table" in cause or "does not exist" in cause):
            raise ConfigError(
                "the database has not been migrated to this version: run `resume migrate`"
            ) from None
        raise
    finally:
        await db.dispose()


def _keys_new(settings: Settings, args: argparse.Namespace) -> int:
    from resume.keyring import new_key

    print(new_key())
    return 0


def _keys_rotate(settings: Settings, args: argparse.Namespace) -> int:
    from resume.datakeys import prepare, rotate
    from resume.db import Database

    def progress(done: int, total: int) -> None:
        print(f"re-sealed {done} of {total} values", flush=True)

    async def work() -> int:
        db = Database(settings)
        try:
            ring = await prepare(db, settings.data_keys)
            return await rotate(db, ring, progress)
        finally:
            await db.dispose()

    done = asyncio.run(work())
    print(
        f"resume: {done} values are sealed with the newest key. Older keys can now be "
        "removed from RESUME_DATA_KEYS."
    )
    return 0


def _migrate(settings: Settings, args: argparse.Namespace) -> int:
    from resume.dashboard.funnel import count_stored_drafts
    from resume.migrations import migrate

    migrate(settings)
    drafts, leads = asyncio.run(count_stored_drafts(settings))
    if drafts is not None:
        print(f"resume: counted {drafts:,} stored drafts into the funnel")
    if leads is not None:
        print(f"resume: counted {leads:,} stored leads into the team page")
    print("resume: database is up to date")
    return 0


def _purge(settings: Settings, args: argparse.Namespace) -> int:
    from resume.retention import purge

    reports = asyncio.run(purge(settings, dealer=args.dealer, dry_run=args.dry_run))
    verb = "would remove" if args.dry_run else "removed"
    for report in reports:
        counts = ", ".join(f"{n} {kind}" for kind, n in report.counts.items()) or "nothing"
        print(
            f"{report.slug}: {verb} {counts} "
            f"(drafts untouched since {report.before:%Y-%m-%d}, {report.days} days)"
        )
    return 0


def _backup(settings: Settings, args: argparse.Namespace) -> int:
    from resume.backup import backup, size_text

    def progress(copied: int, total: int) -> None:
        print(f"copied {copied:,} of {total:,} pages", flush=True)

    done = backup(settings, args.path, force=args.force, progress=progress)
    print(f"integrity_check of the copy: {done.integrity}; {size_text(done.size)}")
    if not done.ok:
        print(
            f"resume: the copy is damaged, so nothing was written at {args.path}; "
            f"check the database itself: sqlite3 {done.source} 'PRAGMA integrity_check'",
            file=sys.stderr,
        )
        return 1
    print(
        f"resume: backed up {done.source} to {done.path} "
        f"({done.pages:,} pages in {done.seconds:.1f} s)"
    )
    return 0


def _restore(settings: Settings, args: argparse.Namespace) -> int:
    from resume.backup import check_backup, size_text

    found = check_backup(settings, args.path)
    print(
        f"resume: {found.path} is a whole resume backup (integrity_check ok, "
        f"{size_text(found.size)}, schema revision {found.revision}); nothing has been changed. "
        f"To bring it back in place of {found.database}:"
    )
    print("\n".join(found.instructions()))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
