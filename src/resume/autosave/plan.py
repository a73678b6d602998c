"""What one batch of saves writes: each save checked against its locked draft, then the rows.

A synchronous Core function, run in a write transaction by `Database.run_write`.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import msgspec
from sqlalchemy import Connection

from resume import source
from resume.autosave.batch import Batch, Save, View
from resume.consent import follows_up
from resume.errors import DraftGone, ResumeError, Revoked, StepNotReached, TooManyRequests
from resume.keyring import Keyring
from resume.queries import drafts as drafts_q
from resume.queries import funnel as funnel_q
from resume.queries import leads as leads_q
from resume.queries import limits as limits_q
from resume.queries import outbox as outbox_q
from resume.queries.drafts import DraftState, Stored


def write_batch(
    conn: Connection,
    saves: list[Save],
    views: list[View],
    cached: dict[str, DraftState],
    ring: Keyring,
    draft_limit: int | None = None,
) -> list[DraftState | ResumeError]:
    """Plan every save against the locked drafts, then write the batch's rows; sensitive
    values are sealed and opened with `ring`. With `draft_limit`, saves past that many a
    minute for one draft are refused, counted in the database so that the limit holds
    across processes (issue #12)."""
    rows = Batch(ring)
    refused = _over_limit(conn, saves, draft_limit) if draft_limit and saves else set()
    outcomes: list[DraftState | ResumeError] = []
    states = drafts_q.lock(conn, [s.draft_id for s in saves])
    # Every write of a draft's values bumps its revision, so a cached copy at the locked
    # revision and version holds exactly the stored values: no need to read them.
    current = {
        draft_id: found
        for draft_id, state in states.items()
        if (found := cached.get(draft_id)) is not None
        and (found.revision, found.version) == (state.revision, state.version)
    }
    values = drafts_q.load_values(conn, [d for d in states if d not in current], ring=ring)
    for draft_id, state in states.items():
        stored = current[draft_id].values if draft_id in current else values.get(draft_id)
        states[draft_id] = msgspec.structs.replace(state, values=stored or {})
    for position, save in enumerate(saves):
        if position in refused:
            outcomes.append(TooManyRequests(SLOW_DOWN))
            continue
        try:
            state = _plan(states.get(save.draft_id), save, rows)
        except ResumeError as exc:
            outcomes.append(exc)
            continue
        states[save.draft_id] = state
        outcomes.append(state)
    for view in views:
        rows.events.append(
            {
                "dealer_id": view.dealer_id,
                "draft_id": view.draft_id,
                "widget": view.widget,
                "kind": view.kind,
                "step": view.step,
                "field": None,
                "at": view.at,
            }
        )
    drafts_q.insert_drafts(conn, rows.new)
    drafts_q.update_drafts(conn, list(rows.updates.values()))
    drafts_q.upsert_values(conn, rows.values)
    drafts_q.insert_events(conn, rows.events)
    drafts_q.insert_consents(conn, rows.consents)
    outbox_q.enqueue(conn, rows.mail)
    outbox_q.stop_followups(conn, rows.returned)
    if rows.captured:
        made = leads_q.capture(conn, rows.captured)
        outcomes = [
            msgspec.structs.replace(o, lead_id=made[o.id])
            if isinstance(o, DraftState) and o.id in made
            else o
            for o in outcomes
        ]
    leads_q.touch(conn, list(rows.touched.values()))
    # Last: the day's summary rows are the ones every batch of every process adds to, so
    # their row locks are held for the shortest time, from here to the commit.
    funnel_q.bump(conn, rows.counts)
    return outcomes


SLOW_DOWN = (
    "You've sent a lot of answers in a short time, so we didn't save this last press. Your "
    "earlier answers are saved: wait a minute and press the button again."
)


def _over_limit(conn: Connection, saves: list[Save], limit: int) -> set[int]:
    """The positions of the saves past `limit` a minute for their draft."""
    counts = Counter(s.draft_id for s in saves)
    hits = limits_q.hit_many(
        conn,
        {f"draft:{d}": n for d, n in counts.items()},
        saves[0].now,
        window=dt.timedelta(minutes=1),
    )
    allowed = {d: limit - (hits.get(f"draft:{d}", n) - n) for d, n in counts.items()}
    refused = set()
    for position, save in enumerate(saves):
        allowed[save.draft_id] -= 1
        if allowed[save.draft_id] < 0:
            refused.add(position)
    return refused


def _plan(current: DraftState | None, save: Save, rows: Batch) -> DraftState:
    """Check one save against the stored draft and add its rows to the batch."""
    creating = save.new and current is None
    if creating:
        if save.step_index != 0:
            raise StepNotReached("Start from the first step.")
        current = DraftState(
            id=save.draft_id,
            dealer_id=save.dealer_id,
            widget=save.widget,
            version=drafts_q.FIRST_VERSION,
            revision=0,
            step=save.step,
            reached=0,
            status="open",
            email=None,
            phone=None,
            wants_showroom=False,
            values={},
            demo=save.demo,
            cohort_day=save.day or None,
            cohort_source=save.cohort_source or funnel_q.source_key(save.source),
            lang=save.lang or "en",
        )
        rows.event(save, "draft_started")
    elif current is None or current.dealer_id != save.dealer_id or current.widget != save.widget:
        raise DraftGone()
    elif save.new and current.version == drafts_q.FIRST_VERSION:
        # The first page posted again (a double click, a second tab): its draft id was fixed
        # when the page was made, so this is the same draft, not a new one.
        pass
    elif current.version != (drafts_q.FIRST_VERSION if save.new else save.version):
        # Revoked since the page was made, the first page's included (issue #12).
        raise Revoked()
    elif save.step_index > current.reached:
        raise StepNotReached()

    values = dict(current.values)
    email, phone = current.email, current.phone
    for name, cleaned in save.values.items():
        old = values.get(name)
        if old is None and not cleaned.raw.strip():
            changed = False
        else:
            changed = old is None or old.value != cleaned.raw
        if changed:
            rows.event(save, "field_changed", name)
        if cleaned.valid and cleaned.value and name == "email":
            email = str(cleaned.value)
        if cleaned.valid and cleaned.value and name == "phone":
            phone = str(cleaned.value)
        # A valid answer's note rides in `error`: `valid` tells the two apart.
        message = cleaned.error if cleaned.error is not None else cleaned.note
        step = save.field_steps.get(name, save.step)
        stored = Stored(cleaned.raw, cleaned.valid, message, step)
        values[name] = stored
        if stored == old:
            continue  # already stored exactly so; its changed_at stays
        sealed = name in save.sealed
        rows.values.append(
            {
                "draft_id": save.draft_id,
                "name": name,
                "step": step,
                "value": rows.ring.seal(cleaned.raw) if sealed else cleaned.raw,
                "sealed": sealed,
                "valid": cleaned.valid,
                "error": message,
                "changed_at": save.now,
            }
        )
    if save.records_step:
        rows.event(save, "step_saved")
        if current.exit_at is not None:
            rows.returned.append(save.draft_id)
    if email and not current.email:
        rows.event(save, "partial_lead")
    if save.resumed:
        rows.event(save, "resumed")
    completes = save.completes and current.status != "completed"
    if completes:
        rows.event(save, "completed")
    if save.wants_showroom and not current.wants_showroom:
        rows.event(save, "showroom_requested")
    if save.link_requested:
        rows.event(save, "link_requested")
    # A consent is recorded once: concurrent posts of one page all carry it, and only the
    # first that finds the box unticked on the locked draft records it (issue #12).
    if save.consent and not (save.consent["kind"] == "followup" and follows_up(current.values)):
        rows.consents.append({"draft_id": save.draft_id, "at": save.now, **save.consent})
        rows.event(save, "consent_" + save.consent["kind"])
    rows.mail.extend(m.row(save.dealer_id, save.draft_id, save.now) for m in save.outgoing)

    state = msgspec.structs.replace(
        current,
        revision=current.revision + 1,
        step=save.move_step or current.step,
        reached=max(current.reached, save.move_index),
        status="completed" if completes else current.status,
        email=email,
        phone=phone,
        wants_showroom=current.wants_showroom or save.wants_showroom,
        link_sent_at=save.now if save.link_requested else current.link_sent_at,
        resumed_at=save.now if save.resumed else current.resumed_at,
        exit_at=None if save.records_step else current.exit_at,
        lang=save.lang or current.lang,
        values=values,
    )
    _row(state, save, rows, creating)
    _lead(current, state, save, rows)
    _count(current, state, save, rows, creating)
    return state


def _count(current: DraftState, state: DraftState, save: Save, rows: Batch, creating: bool) -> None:
    """What this save adds to the funnel: each point a draft reaches, counted once."""
    if creating:
        rows.count(state, "started")
    for index in range(-1 if creating else current.reached, state.reached):
        if 0 <= index + 1 < len(save.steps):
            rows.count(state, "reached", save.steps[index + 1])
    if (state.email or state.phone) and not (current.email or current.phone):
        rows.count(state, "captured")
    if save.resumed and current.resumed_at is None:
        rows.count(state, "resumed")
    if state.status == "completed" and current.status != "completed":
        rows.count(state, "completed")


def _lead(current: DraftState, state: DraftState, save: Save, rows: Batch) -> None:
    """A draft with an email or a phone is a partial lead: the save that first captures one
    makes (or finds) its lead; every later save moves the lead's activity."""
    name = " ".join(
        state.values[n].value.strip()
        for n in ("first_name", "last_name")
        if n in state.values and state.values[n].valid and state.values[n].value.strip()
    )[:120]
    if state.lead_id is None:
        if state.email or state.phone:
            rows.captured.append(
                leads_q.Captured(
                    draft_id=state.id,
                    dealer_id=state.dealer_id,
                    widget=state.widget,
                    step=state.step,
                    email=state.email,
                    phone=state.phone,
                    name=name,
                    at=save.now,
                    demo=state.demo,
                    cohort_day=state.cohort_day,
                    cohort_source=state.cohort_source,
                )
            )
        return
    if not save.records_step:
        return
    back = save.resumed or current.exit_at is not None
    earlier = rows.touched.get(state.lead_id, {})
    rows.touched[state.lead_id] = {
        "b_lead": state.lead_id,
        "b_at": save.now,
        "b_widget": state.widget,
        "b_step": state.step,
        "b_back": back or earlier.get("b_back", False),
        "b_name": name,
    }


def _row(state: DraftState, save: Save, rows: Batch, creating: bool) -> None:
    if creating:
        rows.new.append(
            {
                "id": state.id,
                "dealer_id": state.dealer_id,
                "widget": state.widget,
                "version": state.version,
                "revision": state.revision,
                "step": state.step,
                "reached": state.reached,
                "status": state.status,
                "email": state.email,
                "phone": state.phone,
                "wants_showroom": state.wants_showroom,
                "created_at": save.now,
                "updated_at": save.now,
                "completed_at": save.now if state.status == "completed" else None,
                "link_sent_at": state.link_sent_at,
                "resumed_at": None,
                "origin_id": save.origin_id,
                "demo": state.demo,
                # Every key in every row: the batch inserts its drafts with one executemany.
                **{name: save.source.get(name) for name in source.COLUMNS},
                "page_vehicle": save.page_vehicle or None,
                "cohort_day": state.cohort_day,
                "cohort_source": state.cohort_source,
                "lang": state.lang,
            }
        )
        return
    previous = rows.updates.get(state.id, {})
    rows.updates[state.id] = {
        "b_id": state.id,
        "b_revision": state.revision,
        "b_step": state.step,
        "b_reached": state.reached,
        "b_status": state.status,
        "b_email": state.email,
        "b_phone": state.phone,
        "b_wants_showroom": state.wants_showroom,
        "b_updated_at": save.now,
        "b_resumed_at": save.now if save.resumed else previous.get("b_resumed_at"),
        "b_completed_at": save.now if save.completes else previous.get("b_completed_at"),
        "b_link_sent_at": state.link_sent_at,
        "b_exit_at": state.exit_at,
        "b_lang": state.lang,
    }
