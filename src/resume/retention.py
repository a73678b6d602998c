"""Deleting what a dealer no longer may keep: `resume purge`, and the worker once an hour."""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from pathlib import Path

import msgspec

from resume.db import Database
from resume.errors import ConfigError
from resume.queries import dealers as dealers_q
from resume.queries import limits as limits_q
from resume.queries.purge import purge_page
from resume.settings import Settings

log = logging.getLogger("resume.retention")


class Report(msgspec.Struct):
    slug: str
    days: int
    before: dt.datetime
    counts: Counter[str]


async def purge_database(
    db: Database,
    *,
    dealer: str | None = None,
    dry_run: bool = False,
    now: dt.datetime | None = None,
    mail_dir: str = "",
) -> list[Report]:
    """Purge every dealer (or one) past its retention period; return what was removed.
    With `mail_dir` (no SMTP server: mail kept on disk), the files of the shopper mail the
    purge deleted go too, once their rows' deletion is committed."""
    now = now or dt.datetime.now(dt.UTC)
    async with db.read() as conn:
        found = await dealers_q.all_dealers(conn)
    if dealer is not None:
        found = [d for d in found if d.slug == dealer]
        if not found:
            raise ConfigError(f"no dealership {dealer!r}")
    # Counters of the limits (sign-ins, links) older than a day count nothing any more.
    if not dry_run:
        await db.run_write(limits_q.forget, now - dt.timedelta(days=1))
    reports = []
    for each in found:
        days = each.config.retention_days
        report = Report(each.slug, days, now - dt.timedelta(days=days), Counter())
        while True:
            kept: list[str] = []
            page = await db.run_write(
                lambda conn, d=each.id, b=report.before, k=kept: purge_page(
                    conn, d, b, dry_run=dry_run, kept=k if mail_dir else None
                )
            )
            report.counts.update(page)
            if kept:
                report.counts["kept mail files deleted"] += _forget_files(mail_dir, kept)
            if not page["drafts"] or dry_run:
                break
        if report.counts["drafts"] and not dry_run:
            log.info("purged dealer=%s %s", each.slug, dict(report.counts))
        reports.append(report)
    return reports


def _forget_files(folder: str, names: list[str]) -> int:
    """Delete kept mail files by name (never a path: a name with a slash is not ours)."""
    gone = 0
    for name in names:
        path = Path(folder) / name
        if "/" in name or not name.endswith(".eml"):
            continue
        try:
            path.unlink()
            gone += 1
        except FileNotFoundError:
            continue
    return gone


async def purge(
    settings: Settings, *, dealer: str | None = None, dry_run: bool = False
) -> list[Report]:
    db = Database(settings)
    try:
        return await purge_database(
            db,
            dealer=dealer,
            dry_run=dry_run,
            mail_dir="" if settings.smtp_url else settings.mail_dir,
        )
    finally:
        await db.dispose()
