"""Retention: drafts untouched past their dealer's retention period are deleted with their
answers, events, consents and pre-qualification; mail still queued for them is stopped."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from sqlalchemy import Connection, delete, func, select, update

from resume.outbox import KEPT
from resume.queries import team_counts
from resume.queries.outbox import SHOPPER_KINDS
from resume.tables import consents, drafts, events, field_values, leads, outbox, prequals

PAGE = 500


def purge_page(
    conn: Connection,
    dealer_id: int,
    before: dt.datetime,
    *,
    dry_run: bool = False,
    kept: list[str] | None = None,
) -> Counter[str]:
    """Remove up to PAGE drafts of one dealer last changed before `before`; count each kind of
    row removed. Run again until it removes no drafts. A dry run counts them all at once.
    `kept` gets the names of the files the embedded default kept the deleted mail in."""
    query = (
        select(drafts.c.id)
        .where(drafts.c.dealer_id == dealer_id, drafts.c.updated_at < before)
        .order_by(drafts.c.id)
    )
    page = query.limit(PAGE)
    if not dry_run and conn.dialect.name == "postgresql":
        # A draft being saved right now is skipped, not deleted under the save; the lock
        # re-checks updated_at, so one saved a moment ago is no longer past retention.
        page = page.with_for_update(skip_locked=True)
    ids = list(conn.execute(page).scalars())
    counts: Counter[str] = Counter()
    if not ids:
        return counts
    # A dry run counts every draft past retention, as a subquery: no list of ids to bind.
    chosen = query if dry_run else ids
    for name, table in (
        ("field values", field_values),
        ("events", events),
        ("consents", consents),
        ("pre-qualifications", prequals),
    ):
        counts[name] = conn.execute(
            select(func.count()).select_from(table).where(table.c.draft_id.in_(chosen))
        ).scalar_one()
    if dry_run:
        counts["drafts"] = conn.execute(
            select(func.count()).select_from(query.subquery())
        ).scalar_one()
        return counts
    counts["drafts"] = len(ids)
    # The purge is a stop rule (issue #4): nothing queued for these shoppers goes out.
    counts["queued emails stopped"] = conn.execute(
        update(outbox)
        .where(outbox.c.draft_id.in_(ids), outbox.c.status == "pending")
        .values(status="stopped", last_error="draft purged")
    ).rowcount
    # The shopper's own mail holds their address: it goes too. Alerts and leads went to the
    # dealer and stay as its record, without the draft.
    shopper_mail = (outbox.c.draft_id.in_(ids), outbox.c.kind.in_(SHOPPER_KINDS))
    if kept is not None:
        replies = conn.execute(
            select(outbox.c.reply).where(*shopper_mail, outbox.c.reply.like(KEPT + "%"))
        ).scalars()
        kept.extend(str(r)[len(KEPT) :].strip() for r in replies)
    counts["emails to the shopper deleted"] = conn.execute(
        delete(outbox).where(*shopper_mail)
    ).rowcount
    for table in (field_values, events, prequals, consents):
        conn.execute(delete(table).where(table.c.draft_id.in_(ids)))
    conn.execute(update(drafts).where(drafts.c.origin_id.in_(ids)).values(origin_id=None))
    conn.execute(update(outbox).where(outbox.c.draft_id.in_(ids)).values(draft_id=None))
    lead_ids = set(
        conn.execute(
            select(drafts.c.lead_id).where(drafts.c.id.in_(ids), drafts.c.lead_id.is_not(None))
        ).scalars()
    )
    conn.execute(delete(drafts).where(drafts.c.id.in_(ids)))
    # A lead holds the shopper's name, email and phone: it goes with its last draft, with its
    # timeline, callbacks and offers (the audit keeps only the lead's number).
    if lead_ids:
        still = select(drafts.c.id).where(drafts.c.lead_id == leads.c.id).exists()
        counted = team_counts.parts(conn, lead_ids, lock=True)
        gone = (
            conn.execute(
                delete(leads).where(leads.c.id.in_(lead_ids), ~still).returning(leads.c.id)
            )
            .scalars()
            .all()
        )
        counts["leads"] = len(gone)
        # Out of the team page's figures with them (resume.queries.team_counts).
        team_counts.remove(conn, [counted[i] for i in gone if i in counted])
    return counts
