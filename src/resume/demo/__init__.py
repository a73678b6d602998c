"""The demo dealership: Demo Motors, with sensible finance defaults, a demo manager and a demo
rep (invited), and a dozen demo shoppers who left the widgets at different steps and fields
over the last days, some already called. Demo shoppers are marked so and never emailed.

The shoppers are saved through the same write path as a real shopper's steps (the autosave
batch), so their leads, owners and events are what the product makes; only their clocks are
moved back afterwards.

What each demo shopper types, step by step, and what the team did since, is in
resume.demo.shoppers.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import msgspec
from sqlalchemy import text

from resume import consent
from resume.autosave.batch import Save
from resume.autosave.plan import write_batch
from resume.cadence import exit_point
from resume.catalog import Catalog
from resume.dashboard.accounts import Accounts
from resume.dashboard.dealership import change_origins
from resume.dashboard.funnel import Funnel
from resume.db import Database
from resume.dealers import Dealer, DealerConfig
from resume.dealers.checks import check_config
from resume.demo.shoppers import SHOPPERS
from resume.engine import find_step, validate
from resume.keyring import Keyring
from resume.leads import clock
from resume.queries import dealers as dealers_q
from resume.queries import followups as followups_q
from resume.queries import leads as leads_q
from resume.queries import staff as staff_q
from resume.queries import team_counts
from resume.settings import Settings
from resume.tokens import Signer, new_draft_id

SLUG = "demo-motors"
# What a demo shopper's consent records say of where it came from.
DEMO_CLIENT = consent.Client("", "resume demo (seeded, not a person)")
ADMIN = "admin@demo-motors.example"
MANAGER = "manager@demo-motors.example"
REP = "rep@demo-motors.example"


def demo_origin(base_url: str) -> str:
    """Return the origin the demo page is served from: the widget's host, swapped.

    The demo must be honest about third-party context (issue #2, item 3): the widget runs on
    127.0.0.1 and the dealer page on localhost, or the other way round.
    """
    parts = urlsplit(base_url)
    host = parts.hostname or "127.0.0.1"
    other = {"127.0.0.1": "localhost", "localhost": "127.0.0.1"}.get(host, host)
    netloc = other + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, "", "", ""))


# The hosts demo_origin gives for a demo on this machine. An origin of Demo Motors on one of
# them is one an earlier `resume demo` stored, for an earlier base URL.
LOOPBACK = frozenset({"localhost", "127.0.0.1"})


def stale_origins(origins: list[str], current: str) -> tuple[str, ...]:
    """Return the origins an earlier demo stored for another port or host: loopback, not
    `current`. The dealer's other origins (a real site added by hand) are not the demo's."""
    return tuple(o for o in origins if o != current and urlsplit(o).hostname in LOOPBACK)


# Who Demo Motors is; the benchmark's baseline route renders the same dealer.
DETAILS = {
    "name": "Demo Motors",
    "lead_email": "leads@demo-motors.example",
    "address": "1200 Example Avenue, Springfield, IL 62701",
    "phone": "(217) 555-0142",
    "timezone": "America/Chicago",
}


class Seeded(msgspec.Struct):
    created: bool
    # Invitation links for the demo accounts not set up yet, by email.
    invitations: dict[str, str]
    # The demo page origins of an earlier base URL, replaced by this one's.
    replaced: tuple[str, ...] = ()


async def seed(settings: Settings) -> bool:
    """Create Demo Motors unless it exists; return whether it was created."""
    return (await seed_all(settings, shoppers=False)).created


async def seed_all(settings: Settings, *, shoppers: bool = True) -> Seeded:
    """Demo Motors, its demo manager and rep, and (once) its demo shoppers."""
    db = Database(settings)
    ring = Keyring(settings.data_keys)
    accounts = Accounts(settings, db, ring, Signer(settings.secret_keys))
    try:
        async with db.write() as conn:
            dealer = await dealers_q.get_by_slug(conn, SLUG)
            created = dealer is None
            replaced: tuple[str, ...] = ()
            if dealer is None:
                dealer = await dealers_q.add(
                    conn,
                    slug=SLUG,
                    origins=(demo_origin(settings.base_url),),
                    config=check_config(DealerConfig()),
                    **DETAILS,
                )
            else:
                # A demo run again on another port (PORT=8123 ./scripts/run) moves the demo
                # page's origin with it, or the frame is refused (issue #11, item 7). Audited,
                # as `dealer config --add-origin` is.
                origin = demo_origin(settings.base_url)
                replaced = stale_origins(list(dealer.origins), origin)
                await change_origins(conn, SLUG, added=(origin,), removed=replaced)
        invitations = {}
        for email, role in ((ADMIN, "admin"), (MANAGER, "manager"), (REP, "sales")):
            async with db.read() as conn:
                account = await staff_q.by_email(conn, email)
            if account is None:
                invitations[email] = await accounts.invite(email, role, (dealer.id,))
            elif account.status == "invited":
                invitations[email] = await accounts.reinvite(email)
        if shoppers:
            async with db.read() as conn:
                seeded = (
                    await conn.execute(
                        text("SELECT COUNT(*) FROM drafts WHERE demo AND dealer_id = :d"),
                        {"d": dealer.id},
                    )
                ).scalar_one()
            if not seeded:
                await _shoppers(db, ring, dealer)
                # Their history is written as of the past, so the funnel counts it afresh.
                await Funnel(db, Catalog.load()).recount([dealer.id])
        return Seeded(created, invitations, replaced)
    finally:
        await db.dispose()


async def _shoppers(db: Database, ring: Keyring, dealer: Dealer) -> None:
    catalog = Catalog.load()
    now = dt.datetime.now(dt.UTC)
    async with db.read() as conn:
        team = await staff_q.team(conn, (dealer.id,))
    manager = next((m.id for m in team if m.role == "manager"), None)
    rep = next((m.id for m in team if m.role == "sales"), None)
    for shopper in SHOPPERS:
        widget = catalog.for_dealer(shopper["widget"], dealer)
        kind = catalog.kind(widget.slug)
        steps = widget.steps_for(dealer.config.flags())
        draft_id = new_draft_id()
        left = now - dt.timedelta(hours=shopper["hours"])
        state = None
        for number, (step_name, typed) in enumerate(shopper["steps"]):
            at = left - dt.timedelta(minutes=2 * (len(shopper["steps"]) - number))
            if step_name == "save":
                fields = widget.save_fields
                index, moved = state.reached if state else 0, None
                name = "save"
            else:
                index, step = find_step(steps, step_name)
                fields, name = step.fields, step.name
                moved = steps[min(index + 1, len(steps) - 1)]
                if moved.kind != "form":
                    moved = steps[index]  # the demo stops before results and consents
            results = kind.check(name, validate(fields, typed))
            box = next((f for f in fields if f.name == consent.FOLLOWUP_FIELD), None)
            ticked = results.get(consent.FOLLOWUP_FIELD)
            agreed = (
                consent.record("followup", box.label, DEMO_CLIENT)
                if box
                and ticked
                and ticked.value is True
                and not (state and consent.follows_up(state.values))
                else None
            )
            save = Save(
                draft_id=draft_id,
                dealer_id=dealer.id,
                widget=widget.slug,
                version=0 if state is None else state.version,
                new=state is None,
                step=name,
                step_index=index if name != "save" else 0,
                values=results,
                sealed=frozenset(f.name for f in fields if f.sensitive),
                now=at,
                move_step=moved.name if moved else None,
                move_index=find_step(steps, moved.name)[0] if moved else index,
                link_requested=name == "save",
                consent=agreed,
                demo=True,
            )
            [outcome] = await db.run_write(write_batch, [save], [], {}, ring)
            if isinstance(outcome, Exception):
                raise outcome
            state = outcome
        assert state is not None
        async with db.write() as conn:
            await conn.execute(
                text("UPDATE drafts SET created_at = :c, updated_at = :u WHERE id = :d"),
                {"c": left - dt.timedelta(minutes=10), "u": left, "d": draft_id},
            )
            fresh = await followups_q.load_idle(conn, draft_id, ring=ring)
            if fresh is not None and fresh.lead_id is not None:
                last_step = next(s for s, _ in reversed(shopper["steps"]) if s != "save")
                step_name, field = exit_point(widget, fresh, last_step, None)
                await followups_q.mark_exit(conn, fresh, left + dt.timedelta(minutes=30))
                await followups_q.record_exit_event(
                    conn, fresh, step_name, field, left + dt.timedelta(minutes=30)
                )
                await conn.run_sync(
                    leads_q.record_exit,
                    fresh.lead_id,
                    left + dt.timedelta(minutes=30),
                    step_name,
                    field,
                )
                owner = rep if shopper.get("attempts") or shopper["hours"] < 2 else None
                await _follow_through(conn, shopper, fresh.lead_id, dealer, left, owner or manager)
                await leads_q.change(conn, fresh.lead_id, owner_id=owner)


async def _follow_through(
    conn: Any,
    shopper: dict[str, Any],
    lead_id: int,
    dealer: Dealer,
    left: dt.datetime,
    by: int | None,
) -> None:
    """The team's side of a demo lead: its clock, attempts and status, as of the past."""
    first, last = shopper.get("name", ("", ""))
    captured = left - dt.timedelta(minutes=5)
    values: dict[str, Any] = {
        "captured_at": captured,
        "captured_day": team_counts.day_of(captured, dealer.timezone),
        "last_activity_at": left,
        "name": " ".join(p for p in (first, last) if p),
    }
    attempts = shopper.get("attempts", [])
    for number, (channel, outcome) in enumerate(attempts):
        at = left + dt.timedelta(minutes=45 + 90 * number)
        await leads_q.add_activity(
            conn,
            lead_id=lead_id,
            dealer_id=dealer.id,
            staff_id=by,
            kind="attempt",
            at=at,
            channel=channel,
            outcome=outcome,
        )
        values.setdefault("first_attempt_at", at)
        values["last_attempt_at"] = at
    values["attempts"] = len(attempts)
    if attempts:
        # As the product keeps it when the first attempt is logged.
        values["response_minutes"] = clock(
            captured,
            values["first_attempt_at"],
            values["first_attempt_at"],
            dealer.config,
            dealer.timezone,
        )[0]
    status = shopper.get("status", "attempting" if attempts else "new")
    values["status"] = status
    if status == "lost":
        values["lost_reason"] = "bought_elsewhere"
    if status == "appointment_set":
        values["appointment_at"] = left + dt.timedelta(days=3)
    if status != "new":
        await leads_q.add_activity(
            conn,
            lead_id=lead_id,
            dealer_id=dealer.id,
            staff_id=by,
            kind="status",
            at=left + dt.timedelta(hours=2),
            detail={"from": "new", "to": status},
        )
    await leads_q.change(conn, lead_id, **values)
    await conn.execute(
        text("UPDATE drafts SET lead_status = :s WHERE lead_id = :l"), {"s": status, "l": lead_id}
    )
