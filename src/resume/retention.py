"""Deleting what a dealer no longer may keep: `resume purge`, and the worker once an hour."""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter

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
) -> list[Report]:
    """Purge every dealer (or one) past its retention period; return what was removed."""
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
            page = await db.run_write(
                lambda conn, d=each.id, b=report.before: purge_page(conn, d, b, dry_run=dry_run)
            )
            report.counts.update(page)
            if not page["drafts"] or dry_run:
                break
        if report.counts["drafts"] and not dry_run:
            log.info("purged dealer=%s %s", each.slug, dict(report.counts))
        reports.append(report)
    return reports


async def purge(
    settings: Settings, *, dealer: str | None = None, dry_run: bool = False
) -> list[Report]:
    db = Database(settings)
    try:
        return await purge_database(db, dealer=dealer, dry_run=dry_run)
    finally:
        await db.dispose()
