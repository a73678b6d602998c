"""Follow-up after a shopper leaves (issue #4): finding exits and scheduling the touches.

A partial lead (a draft with a valid email or phone), not completed, and unsaved for the
dealer's idle time has *exited*; the sales team sees where (issue #9). Its exit step is the
last step saved; its exit field is the first invalid or empty required field of that step,
else the last field changed. With a valid email and a recorded follow-up consent, while the
lead is New, each exit queues the dealer's cadence of touches, every one inside the dealer's
sending hours, each with a unique key (draft, exit, touch) so that no number of workers sends
one twice. Every time is passed in: tests move the clock, nothing sleeps.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection

from resume import metrics, outbox
from resume.catalog import Catalog
from resume.db import Database
from resume.dealers import Dealer, DealerConfig
from resume.definitions import Step, Widget
from resume.engine import find_step
from resume.errors import Unavailable
from resume.fields import clean
from resume.keyring import Keyring
from resume.queries import dealers as dealers_q
from resume.queries import followups as followups_q
from resume.queries import funnel as funnel_q
from resume.queries import leads as leads_q
from resume.queries import outbox as outbox_q
from resume.queries.drafts import DraftState
from resume.settings import Settings

BATCH = 100


def touch_times(exit_at: dt.datetime, config: DealerConfig, timezone: str) -> list[dt.datetime]:
    """Return when each touch is due: the cadence's delays, moved into sending hours."""
    return [
        within_hours(exit_at + dt.timedelta(minutes=delay), config.sending_hours, timezone)
        for delay in config.cadence
    ]


def within_hours(due: dt.datetime, hours: tuple[int, int], timezone: str) -> dt.datetime:
    """Return `due`, or the next opening of the sending window in the dealer's timezone."""
    start, end = hours
    local = due.astimezone(ZoneInfo(timezone))
    if start <= local.hour < end:
        return due
    day = local.date() if local.hour < start else local.date() + dt.timedelta(days=1)
    opening = dt.datetime.combine(day, dt.time(start), tzinfo=ZoneInfo(timezone))
    return opening.astimezone(dt.UTC)


def exit_point(
    widget: Widget, draft: DraftState, last_step: str, last_changed: str | None
) -> tuple[str, str | None]:
    """Return the exit step and the field the shopper was stuck on.

    The exit step is the last step saved, unless that step was answered in full and moved the
    shopper on: then they left on the page it showed them (a payment result, a consent
    notice), which is what the follow-up should be written for.
    """
    names = {s.name for s in widget.steps}
    if last_step not in names:
        return last_step, last_changed
    index, step = find_step(widget.steps, last_step)
    stuck = _stuck_on(step, draft)
    if stuck is not None:
        return step.name, stuck
    if draft.step in names:
        shown, following = find_step(widget.steps, draft.step)
        if shown > index:
            return following.name, _stuck_on(following, draft)
    return step.name, last_changed


def _stuck_on(step: Step, draft: DraftState) -> str | None:
    """The first field of `step` that is wrong, or required and empty."""
    for field in step.fields:
        stored = draft.values.get(field.name)
        cleaned = clean(field, stored.value if stored else "")
        if not cleaned.valid or (field.required and cleaned.value in (None, "")):
            return field.name
    return None


async def detect_exits(
    db: Database, settings: Settings, catalog: Catalog, ring: Keyring, now: dt.datetime
) -> int:
    """Record the exits that happened by `now` and queue their touches; return how many."""
    found = 0
    dealers: dict[int, Dealer | None] = {}
    async for draft_id, dealer_id, updated_at in _candidates(db, now):
        if dealer_id not in dealers:
            try:
                async with db.read() as conn:
                    dealers[dealer_id] = await dealers_q.get(conn, dealer_id)
            except Unavailable:
                dealers[dealer_id] = None  # settings to fix (logged); the others go on
        dealer = dealers[dealer_id]
        if dealer is None or now - updated_at < dt.timedelta(minutes=dealer.config.idle_minutes):
            continue
        async with db.write() as conn:
            widget = await _record_exit(conn, settings, catalog, ring, dealer, draft_id, now)
        if widget:  # committed
            found += 1
            metrics.EXITS.labels(widget).inc()
    return found


async def _candidates(db: Database, now: dt.datetime) -> Any:
    """Every idle draft, a page at a time: one dealer's longer idle time never hides the rest."""
    after = None
    while True:
        async with db.read() as conn:
            page = await followups_q.idle_drafts(conn, now, limit=BATCH, after=after)
        for candidate in page:
            yield candidate
        if len(page) < BATCH:
            return
        after = page[-1][2]


async def _record_exit(
    conn: AsyncConnection,
    settings: Settings,
    catalog: Catalog,
    ring: Keyring,
    dealer: Dealer,
    draft_id: str,
    now: dt.datetime,
) -> str:
    """Record one exit and queue its touches; return the draft's widget, or "" if it was
    saved, completed or purged since it was found."""
    draft = await followups_q.load_idle(conn, draft_id, ring=ring)
    if draft is None or draft.widget not in catalog.widgets:
        return ""
    last_step, last_changed = await followups_q.last_activity(conn, draft_id)
    step, field = exit_point(
        catalog.for_dealer(draft.widget, dealer), draft, last_step, last_changed
    )
    number = draft.exits + 1
    if not await followups_q.mark_exit(conn, draft, now):
        return ""
    config = dealer.config
    await followups_q.record_exit_event(conn, draft, step, field, now)
    if number == 1:  # the funnel counts where a draft first left (issue #10)
        cohort = (draft.cohort_day, draft.cohort_source)
        await funnel_q.first_exit(
            conn, draft.id, draft.dealer_id, draft.widget, cohort, step, field
        )
    if draft.lead_id is not None:
        await conn.run_sync(leads_q.record_exit, draft.lead_id, now, step, field)
    if config.followup_mode == "off" or draft.email is None:
        return draft.widget  # the dealership sends no follow-up (issue #13)
    if not await followups_q.touches_allowed(conn, draft):
        return draft.widget
    touches = outbox.followups(
        settings,
        draft_id=draft.id,
        to_addr=draft.email,
        exit_number=number,
        exit_step=step,
        exit_field=field,
        cadence_version=config.cadence_version,
        due=touch_times(now, config, dealer.timezone),
    )
    await conn.run_sync(outbox_q.enqueue, [t.row(dealer.id, draft.id, now) for t in touches])
    return draft.widget
