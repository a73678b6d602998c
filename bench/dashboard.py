"""Issue #9's benchmark: the sales dashboard's pages, server-side p50 and p99, against the
widget step's own figures measured in the same run.

    .venv-test/bin/python bench/dashboard.py               # from the repository root: SQLite
    .venv-test/bin/python bench/dashboard.py --postgres    # and PostgreSQL on 127.0.0.1:5432

For each database: a fresh one, migrated with `python -m resume migrate`; Demo Motors and a
second dealership, their reps invited; `--drafts` drafts for Demo Motors and a quarter as many
for the other, written straight into the tables with bulk Core inserts (executemany). That is
a fixture, not the product's write path, but every row is shaped by the product's own code:
23 prototype shoppers (SHAPES) are planned once by the autosave batch's planner
(`resume.autosave.plan._plan`, the rows a save writes), their exits found by the cadence's
`exit_point` and their touches timed by `touch_times`; each seeded draft is a copy of one,
with its own id, times, email, phone and name. About 30 % are partial leads, each with its
lead (owner by round-robin over the reps), and the team's attempts and statuses on it with
their timeline rows and audit entries.

Then `python -m resume serve --no-worker` runs on core 0 (taskset); a manager is invited with
`python -m resume staff add`, accepts the invitation over HTTP (password, TOTP enrolment
with pyotp) and signs in. From core 1, on one keep-alive connection and one request at a
time (so a request's latency is close to the server's time for it), after a warm-up:

- step: the payment widget's vehicle step, POST + the GET its 303 points at (bench/run.py's
  step): the baseline, measured first and again last, both windows pooled;
- list: GET /dashboard/leads (first page, default sort);
- filtered: the list filtered by status, widget and "needs action";
- page 20: the 20th page of that filtered list, reached by following its "Next page" links;
- lead: GET /dashboard/leads/{id}, a different lead each time;
- status: POST /dashboard/leads/{id}/status with the CSRF token, statuses in turn, + the GET
  of the page its 303 points at.

Prints p50 and p99 of each, and each one's ratio to the step's p50 and p99, and the plans
(EXPLAIN QUERY PLAN; on PostgreSQL EXPLAIN ANALYZE) of the lead list's queries. Writes the
table and the raw figures to bench/results/dashboard-<timestamp>.txt|.json (git-ignored).
Exits 1 if any response was not the 200 or 303 expected.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import bisect
import datetime as dt
import html
import http.client
import json
import os
import random
import re
import secrets
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT / "src"))  # the checkout's code, as the server runs it

import loadgen  # noqa: E402
import msgspec  # noqa: E402
import run  # noqa: E402
from sqlalchemy import event, func, insert, select, update  # noqa: E402

from resume import consent  # noqa: E402
from resume import outbox as outbox_mail  # noqa: E402
from resume.autosave.batch import Batch, Save  # noqa: E402
from resume.autosave.plan import _plan  # noqa: E402
from resume.cadence import exit_point, touch_times  # noqa: E402
from resume.catalog import Catalog  # noqa: E402
from resume.dashboard.accounts import Accounts  # noqa: E402
from resume.dashboard.casework import Casework  # noqa: E402
from resume.datakeys import prepare  # noqa: E402
from resume.db import Database  # noqa: E402
from resume.dealers import Dealer, DealerConfig  # noqa: E402
from resume.dealers.checks import check_config  # noqa: E402
from resume.demo import SLUG as DEMO  # noqa: E402
from resume.demo import seed as seed_demo_motors  # noqa: E402
from resume.demo.shoppers import (  # noqa: E402
    ABOUT,
    CAR,
    CAR_DETAILS,
    CONDITION,
    HISTORY,
    NUMBERS,
    OWNED,
    PLAN,
    VEHICLE,
)
from resume.engine import decide, find_step, validate  # noqa: E402
from resume.fields import clean  # noqa: E402
from resume.keyring import Keyring  # noqa: E402
from resume.leads import REACHED  # noqa: E402
from resume.queries import dealers as dealers_q  # noqa: E402
from resume.queries import staff as staff_q  # noqa: E402
from resume.queries.drafts import DraftState  # noqa: E402
from resume.settings import Settings  # noqa: E402
from resume.tables import (  # noqa: E402
    audit,
    consents,
    drafts,
    events,
    field_values,
    lead_activity,
    leads,
    outbox,
    staff_dealers,
)
from resume.tokens import Signer, new_draft_id  # noqa: E402
from resume.web.save_later import new_consent  # noqa: E402

SERVER_CORE = "0"
CLIENT_CORE = "1"
SECRET = "bench-secret-key-0123456789abcdef"  # throwaway keys for this run's databases only
DATA_KEY = base64.urlsafe_b64encode(b"bench-data-key-0123456789abcdef!").decode()
PASSWORD = "bench: correct horse battery staple"
MANAGER = "manager@bench.example"
PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
OTHER = {
    "slug": "second-street",
    "name": "Second Street Auto",
    "lead_email": "leads@second-street.example",
    "address": "77 Second Street, Decatur, IL 62521",
    "phone": "(217) 555-0199",
    "timezone": "America/Chicago",
    "origins": ("https://www.second-street.example",),
}
OTHER_SHARE = 4  # the second dealership gets a quarter of --drafts
# Reps in the round-robin at each dealership (role sales or bdc), invited before the seeding
# and signed up over HTTP once the server runs.
REPS = {DEMO: ("sales", "sales", "bdc"), OTHER["slug"]: ("sales",)}
DAYS = 60  # the drafts' creation times spread over the last 60 days
CHUNK = 2000  # drafts per insert transaction
PAGE_DEPTH = 20  # the filtered list's page that is timed
FILTERED = {"status": "new", "widget": "payment", "needs": "1"}
STEP_URL = loadgen.STEP_URL
FIRST_PAGE = loadgen.FIRST_PAGE
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
TOTP_KEY = re.compile(r'<p class="key" id="totp-key">([A-Z2-7 ]+)</p>')
NEXT = re.compile(r'<a href="([^"]+)" rel="next">')
INVITATION = re.compile(r"invitation \(one use, \d+ hours\): (\S+)")
ROWS = ("step", "list", "filtered", "page20", "lead", "status")
TITLES = {
    "step": "widget step, POST + GET (baseline)",
    "list": "lead list, first page",
    "filtered": "lead list, filtered (status+widget+needs)",
    "page20": f"lead list, filtered, page {PAGE_DEPTH} (keyset)",
    "lead": "lead page, varied leads",
    "status": "status change, POST + GET",
}


# ---------------------------------------------------------------------------------------
# The prototype shoppers: what each kind of draft holds, planned once by the product's code.

# Placeholders a seeded draft's own email, phone and name replace (valid values only).
PROTO = {
    "email": "pat.lee@example.com",
    "phone": "(217) 555-0100",
    "first_name": "Pat",
    "last_name": "Lee",
}
CONTACT = {"email": PROTO["email"], "consent_followup": "yes"}
ABOUT_FULL = {**ABOUT, "first_name": "Pat", "last_name": "Lee", "email": PROTO["email"]}
ABOUT_FULL |= {"phone": PROTO["phone"], "consent_followup": "yes"}
ADDRESS = {
    "street": "400 Oak Street",
    "city": "Springfield",
    "state": "IL",
    "zip": "62704",
}
HOME = {"years_at_address": "3", "housing": "rent", "housing_payment": "1,150"}
INCOME = {
    "employment": "employed",
    "employer": "Acme Foods",
    "years_at_job": "2",
    "monthly_income": "",
}
TRADE_CONTACT = {
    "timeline": "this_week",
    "first_name": "Pat",
    "last_name": "Lee",
    "email": PROTO["email"],
    "phone": PROTO["phone"],
    "consent_followup": "yes",
}
CAMRY = {**VEHICLE, "model": "Camry", "trim": "SE", "price": "29,900"}


@dataclass(frozen=True)
class Shape:
    """A kind of shopper: the widget, the saves in order (step, button, what they typed),
    and how many in a hundred drafts are like this."""

    name: str
    widget: str
    weight: int
    saves: tuple[tuple[str, str, dict[str, str]], ...]
    # The save made after opening the resume link that was emailed (BACK_AFTER later, within
    # the idle time, so no exit comes between); -1: none.
    back: int = -1


SHAPES = (
    # Payment, anonymous (37 %).
    Shape("payment, left before the numbers", "payment", 10, (("vehicle", "continue", VEHICLE),)),
    Shape(
        "payment, no credit chosen",
        "payment",
        2,
        (("vehicle", "continue", VEHICLE), ("plan", "continue", {**PLAN, "credit": ""})),
    ),
    Shape(
        "payment, a typo in the down payment",
        "payment",
        2,
        (
            ("vehicle", "continue", CAMRY),
            ("plan", "continue", PLAN),
            ("numbers", "continue", {**NUMBERS, "down_payment": "3,0OO"}),
        ),
    ),
    Shape(
        "payment, a typo in the term",
        "payment",
        8,
        (
            ("vehicle", "continue", CAMRY),
            ("plan", "continue", PLAN),
            ("numbers", "continue", {**NUMBERS, "term": "6o"}),
        ),
    ),
    Shape(
        "payment, saw the payment",
        "payment",
        8,
        (
            ("vehicle", "continue", VEHICLE),
            ("plan", "continue", PLAN),
            ("numbers", "continue", NUMBERS),
        ),
    ),
    Shape("payment, no price", "payment", 5, (("vehicle", "continue", {**VEHICLE, "price": ""}),)),
    # Payment, partial leads: saved for later with an email (13 %).
    Shape(
        "payment, numbers saved for later",
        "payment",
        5,
        (
            ("vehicle", "continue", VEHICLE),
            ("plan", "continue", PLAN),
            ("numbers", "save", NUMBERS),
            ("save", "send", CONTACT),
        ),
    ),
    Shape(
        "payment, a typo, saved for later",
        "payment",
        3,
        (
            ("vehicle", "continue", CAMRY),
            ("plan", "continue", PLAN),
            ("numbers", "save", {**NUMBERS, "term": "6o"}),
            ("save", "send", CONTACT),
        ),
    ),
    Shape(
        "payment, vehicle saved, no consent",
        "payment",
        2,
        (("vehicle", "save", VEHICLE), ("save", "send", {"email": PROTO["email"]})),
    ),
    Shape(
        "payment, saved the numbers, came back by the link and saw the payment",
        "payment",
        2,
        (
            ("vehicle", "continue", VEHICLE),
            ("plan", "continue", PLAN),
            ("numbers", "save", NUMBERS),
            ("save", "send", CONTACT),
            ("numbers", "continue", NUMBERS),
        ),
        back=4,
    ),
    Shape(
        "payment, saved from the result",
        "payment",
        3,
        (
            ("vehicle", "continue", CAMRY),
            ("plan", "continue", PLAN),
            ("numbers", "continue", NUMBERS),
            ("save", "send", CONTACT),
        ),
    ),
    # Trade-in, anonymous (18 %).
    Shape("trade-in, left at the condition", "trade-in", 7, (("vehicle", "continue", CAR),)),
    Shape(
        "trade-in, no mileage",
        "trade-in",
        4,
        (("vehicle", "continue", CAR), ("condition", "continue", {**CONDITION, "mileage": ""})),
    ),
    Shape(
        "trade-in, left at the contact step",
        "trade-in",
        6,
        (
            ("vehicle", "continue", CAR),
            ("condition", "continue", CONDITION),
            ("history", "continue", HISTORY),
            ("details", "continue", CAR_DETAILS),
            ("ownership", "continue", OWNED),
        ),
    ),
    # Trade-in, partial leads (7 %).
    Shape(
        "trade-in, asked for the offer",
        "trade-in",
        3,
        (
            ("vehicle", "continue", CAR),
            ("condition", "continue", CONDITION),
            ("history", "continue", HISTORY),
            ("details", "continue", CAR_DETAILS),
            ("ownership", "continue", OWNED),
            ("contact", "continue", TRADE_CONTACT),
        ),
    ),
    Shape(
        "trade-in, a phone and no email",
        "trade-in",
        2,
        (
            ("vehicle", "continue", CAR),
            ("condition", "continue", CONDITION),
            ("history", "continue", HISTORY),
            ("details", "continue", CAR_DETAILS),
            ("ownership", "continue", OWNED),
            ("contact", "continue", {**TRADE_CONTACT, "email": "", "consent_followup": ""}),
        ),
    ),
    Shape(
        "trade-in, saved, came back by the link and asked for the offer",
        "trade-in",
        1,
        (
            ("vehicle", "continue", CAR),
            ("condition", "save", CONDITION),
            ("save", "send", CONTACT),
            ("condition", "continue", CONDITION),
            ("history", "continue", HISTORY),
            ("details", "continue", CAR_DETAILS),
            ("ownership", "continue", OWNED),
            ("contact", "continue", TRADE_CONTACT),
        ),
        back=3,
    ),
    Shape(
        "trade-in, condition saved for later",
        "trade-in",
        2,
        (
            ("vehicle", "continue", CAR),
            ("condition", "save", CONDITION),
            ("save", "send", CONTACT),
        ),
    ),
    # Credit, anonymous (15 %).
    Shape(
        "credit, a broken email",
        "credit",
        7,
        (("about", "continue", {**ABOUT_FULL, "email": "pat.lee@example", "phone": ""}),),
    ),
    Shape(
        "credit, left the first step half done",
        "credit",
        8,
        (("about", "continue", {"first_name": "Pat", "birthdate": "03/14/1990"}),),
    ),
    # Credit, partial leads (10 %).
    Shape(
        "credit, no income given",
        "credit",
        5,
        (
            ("about", "continue", ABOUT_FULL),
            ("address", "continue", ADDRESS),
            ("home", "continue", HOME),
            ("income", "continue", INCOME),
        ),
    ),
    Shape(
        "credit, left at the address",
        "credit",
        3,
        (("about", "continue", {**ABOUT_FULL, "consent_followup": ""}),),
    ),
    Shape(
        "credit, a bad zip",
        "credit",
        2,
        (("about", "continue", ABOUT_FULL), ("address", "continue", {**ADDRESS, "zip": "6270"})),
    ),
)
assert sum(s.weight for s in SHAPES) == 100

EPOCH = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)  # prototypes are planned at this time
SECONDS_BETWEEN_SAVES = 75
BACK_AFTER = dt.timedelta(minutes=12)  # from the email to the link opened, within the idle time
# Who a seeded shopper's consent record says they were.
SHOPPER = consent.Client("203.0.113.7", "Mozilla/5.0 (iPhone; seeded by bench/dashboard.py)")


@dataclass
class Prototype:
    """One shape planned: the rows its draft's saves wrote, at times from EPOCH."""

    shape: Shape
    id: str
    draft: dict[str, Any]
    values: list[dict[str, Any]]
    events: list[dict[str, Any]]
    consents: list[dict[str, Any]]
    mail: list[dict[str, Any]]
    captured_at: dt.datetime | None  # when the draft became a partial lead
    came_back_at: dt.datetime | None  # when its lead's shopper came back by the link
    lead_name: str
    exit_step: str
    exit_field: str | None
    follows_up: bool
    completed: bool

    @property
    def partial(self) -> bool:
        return self.captured_at is not None


def plan(
    shape: Shape, dealer: Dealer, catalog: Catalog, ring: Keyring, settings: Settings
) -> Prototype:
    """Plan a shape's saves as the step and save-for-later routes make them, with the
    autosave batch's own planner; keep the rows it would write."""
    widget = catalog.for_dealer(shape.widget, dealer)
    kind = catalog.kind(widget.slug)
    steps = widget.steps_for(dealer.config.flags())
    # A return by the link comes before the exit detector would have seen the draft idle.
    assert shape.back < 0 or dt.timedelta(minutes=dealer.config.idle_minutes) > BACK_AFTER
    draft_id = new_draft_id()
    state: DraftState | None = None
    values: dict[str, dict[str, Any]] = {}
    events_: list[dict[str, Any]] = []
    consents_: list[dict[str, Any]] = []
    mail: list[dict[str, Any]] = []
    captured_at = None
    lead_name = ""
    completed_at = None
    first_at = EPOCH + dt.timedelta(seconds=SECONDS_BETWEEN_SAVES)
    # The first page, seen before the draft exists (web.step_flow.first).
    events_.append(_view(dealer, widget.slug, None, steps[0].name, EPOCH))
    came_back_at = None
    for number, (step_name, action, typed) in enumerate(shape.saves):
        at = _save_time(shape, number)
        resumed = number == shape.back
        if resumed and captured_at is not None:
            came_back_at = at
        assert state is not None or step_name != "save"
        viewed = None
        if step_name == "save":  # web.save_later.save
            assert state is not None
            fields = widget.save_fields
            results = validate(
                tuple(f for f in fields if f.name in typed or f.type == "checkbox"), typed
            )
            email = results.get("email")
            sent = email is not None and email.valid
            box = next((f for f in fields if f.name == consent.FOLLOWUP_FIELD), None)
            agreed = new_consent(box, results, state, SHOPPER) if sent else None
            if agreed is None:
                results.pop(consent.FOLLOWUP_FIELD, None)
            link = (
                outbox_mail.resume_link(
                    settings, str(email.value), f"resume_link:{draft_id}:{state.revision}"
                )
                if sent and email is not None
                else None
            )
            save = Save(
                draft_id=draft_id,
                dealer_id=dealer.id,
                widget=widget.slug,
                version=state.version,
                new=False,
                step="save",
                step_index=0,
                values=results,
                now=at,
                consent=agreed,
                outgoing=(link,) if link else (),
                link_requested=link is not None,
            )
        else:  # web.step_flow.save
            index, step = find_step(steps, step_name)
            results = kind.check(step_name, validate(step.fields, typed))
            move = decide(steps, index, state.reached if state else 0, action, results)
            target = move.target if move.target not in {"save", "saved", "showroom"} else None
            finishes = move.completes or move.result
            moment = (
                kind.finish_moment
                if finishes and kind.finish_moment
                else kind.answer_moment(results)
            )
            contact = bool(state and (state.email or state.phone)) or any(
                (r := results.get(n)) is not None and r.valid and bool(r.value)
                for n in ("email", "phone")
            )
            alerts = (
                outbox_mail.alerts(settings, dealer, draft_id, moment, has_contact=contact)
                if moment
                else []
            )
            save = Save(
                draft_id=draft_id,
                dealer_id=dealer.id,
                widget=widget.slug,
                version=0 if state is None else state.version,
                new=state is None,
                step=step.name,
                step_index=index,
                values=results,
                sealed=frozenset(f.name for f in step.fields if f.sensitive),
                now=at,
                move_step=target,
                move_index=find_step(steps, target)[0] if target else index,
                completes=move.completes,
                resumed=resumed,
                consent=new_consent(step.field(consent.FOLLOWUP_FIELD), results, state, SHOPPER),
                outgoing=tuple(alerts),
            )
            viewed = target
        batch = Batch(ring)
        state = _plan(state, save, batch)
        if batch.captured:
            # write_batch gives the draft its lead in the same transaction.
            captured_at = at
            lead_name = batch.captured[0].name
            state = msgspec.structs.replace(state, lead_id=0)
        elif batch.touched:
            lead_name = lead_name or next(iter(batch.touched.values()))["b_name"]
        if save.completes and completed_at is None:
            completed_at = at
        for row in batch.values:
            earlier = values.get(row["name"])
            if earlier is not None and earlier["value"] == row["value"]:
                row = {**row, "changed_at": earlier["changed_at"]}  # the upsert keeps it
            values[row["name"]] = row
        events_ += batch.events
        consents_ += batch.consents
        mail += batch.mail
        if viewed:  # the page the 303 points at, seen a moment later
            events_.append(_view(dealer, widget.slug, draft_id, viewed, at))
    assert state is not None
    last_at = _save_time(shape, len(shape.saves) - 1)
    # The exit the cadence would record (followups.last_activity, then cadence.exit_point).
    saved = [e for e in events_ if e["kind"] == "step_saved" and e["step"] != "save"]
    last_step = saved[-1]["step"] if saved else ""
    changed = [
        e["field"] for e in events_ if e["kind"] == "field_changed" and e["step"] == last_step
    ]
    exit_step, exit_field = exit_point(widget, state, last_step, changed[-1] if changed else None)
    draft = {
        "dealer_id": dealer.id,
        "widget": widget.slug,
        "version": state.version,
        "revision": state.revision,
        "step": state.step,
        "reached": state.reached,
        "status": state.status,
        "email": state.email,
        "phone": state.phone,
        "wants_showroom": state.wants_showroom,
        "created_at": first_at,
        "updated_at": last_at,
        "resumed_at": state.resumed_at,
        "completed_at": completed_at,
        "link_sent_at": state.link_sent_at,
        "exit_at": None,
        "exits": 0,
        "first_exit_step": None,
        "first_exit_field": None,
        "lead_status": "new",
        "origin_id": None,
        "lead_id": None,
        "demo": False,
    }
    return Prototype(
        shape=shape,
        id=draft_id,
        draft=draft,
        values=list(values.values()),
        events=events_,
        consents=consents_,
        mail=mail,
        captured_at=captured_at,
        came_back_at=came_back_at,
        lead_name=lead_name,
        exit_step=exit_step,
        exit_field=exit_field,
        follows_up=consent.follows_up(state.values) and bool(consents_),
        completed=state.status == "completed",
    )


def _save_time(shape: Shape, number: int) -> dt.datetime:
    """When a shape's save `number` is made, from EPOCH: a save every SECONDS_BETWEEN_SAVES,
    and BACK_AFTER more from the one made by the resume link on."""
    at = EPOCH + dt.timedelta(seconds=SECONDS_BETWEEN_SAVES * (number + 1))
    return at + BACK_AFTER if 0 <= shape.back <= number else at


def _view(
    dealer: Dealer, widget: str, draft_id: str | None, step: str, at: dt.datetime
) -> dict[str, Any]:
    """A step_viewed event, as autosave.View rides along with a batch."""
    return {
        "dealer_id": dealer.id,
        "draft_id": draft_id,
        "widget": widget,
        "kind": "step_viewed",
        "step": step,
        "field": None,
        "at": at + dt.timedelta(milliseconds=300),
    }


# ---------------------------------------------------------------------------------------
# The seeding: copies of the prototypes, and the team's follow-through on the leads.

FIRST_NAMES = ("Pat", "Maria", "Sam", "Jordan", "Dana", "Lee", "Chris", "Alex", "Robin", "Taylor")
FIRST_NAMES += ("Morgan", "Casey", "Jamie", "Riley", "Avery", "Drew", "Quinn", "Reese", "Noel")
LAST_NAMES = ("Lee", "Garcia", "Ortiz", "Kim", "Okafor", "Nguyen", "Brooks", "Rivera", "Hale")
LAST_NAMES += ("Ellis", "Wu", "Patel", "Smith", "Johnson", "Brown", "Davis", "Miller", "Clark")
DOMAINS = ("example.com", "example.net", "example.org")
# A lead's status some days on (older than a day), and within its first day, in percent.
# No "appointment_confirmed": drafts.lead_status, which followthrough.set_status writes the
# lead's status onto, is VARCHAR(16), and that status has 21 characters (PostgreSQL refuses
# it; see bench/README.md).
STATUSES_LATER = {
    "new": 30,
    "attempting": 22,
    "contacted": 14,
    "appointment_set": 10,
    "shown": 4,
    "no_show": 3,
    "sold": 6,
    "lost": 11,
}
STATUSES_FIRST_DAY = {"new": 60, "attempting": 25, "contacted": 10, "appointment_set": 5}
# Statuses a rep only sets after reaching the shopper.
AFTER_REACHING = {
    "contacted",
    "appointment_set",
    "shown",
    "no_show",
    "sold",
}
LOST_REASONS = ("bought_elsewhere", "not_ready", "credit", "bad_contact", "other")
UNASSIGNED = 0.04  # leads captured while every rep was away: nobody's yet


@dataclass
class Seeded:
    dealer: Dealer
    drafts: int = 0
    leads: int = 0
    rows: Counter[str] = field(default_factory=Counter)


class Seeder:
    """Makes one dealership's drafts, chunk by chunk, in creation order."""

    def __init__(
        self,
        dealer: Dealer,
        reps: list[int],
        protos: list[Prototype],
        catalog: Catalog,
        settings: Settings,
        total: int,
        now: dt.datetime,
        next_lead: int,
        rng: random.Random,
    ) -> None:
        self.dealer, self.reps, self.protos = dealer, reps, protos
        self.settings, self.total, self.now, self.rng = settings, total, now, rng
        self.cumulative = []
        running = 0
        for p in protos:
            running += p.shape.weight
            self.cumulative.append(running)
        self.next_lead = next_lead
        self.turn = 0
        self.start = now - dt.timedelta(days=DAYS)
        self.span = (now - dt.timedelta(minutes=10) - self.start).total_seconds()
        self.idle = dt.timedelta(minutes=dealer.config.idle_minutes)
        self.last_assigned: dict[int, dt.datetime] = {}
        self.phone_field = next(
            f for s in catalog.widgets["trade-in"].steps for f in s.fields if f.name == "phone"
        )
        self.result = Seeded(dealer)

    def chunk(self, first: int, count: int) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {t.name: [] for t in ORDER}
        for n in range(first, min(first + count, self.total)):
            self.draft(n, out)
        for name, rows in out.items():
            self.result.rows[name] += len(rows)
        self.result.drafts = min(first + count, self.total)
        return out

    def draft(self, n: int, out: dict[str, list[dict[str, Any]]]) -> None:
        rng = self.rng
        p = self.protos[bisect.bisect_right(self.cumulative, rng.randrange(100))]
        t0 = self.start + dt.timedelta(seconds=self.span * (n + rng.random()) / self.total)
        shift = t0 - EPOCH
        draft_id = new_draft_id()
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        email = f"{first}.{last}.{n}@{DOMAINS[n % len(DOMAINS)]}".lower()
        typed_phone = f"(217) {200 + n // 10_000:03d}-{n % 10_000:04d}"
        typed = {"email": email, "phone": typed_phone, "first_name": first, "last_name": last}
        for row in p.values:
            copy = {**row, "draft_id": draft_id, "changed_at": row["changed_at"] + shift}
            if row["valid"] and row["name"] in typed and row["value"] == PROTO[row["name"]]:
                copy["value"] = typed[row["name"]]
            out["field_values"].append(copy)
        for e in p.events:
            out["events"].append(
                {**e, "draft_id": draft_id if e["draft_id"] else None, "at": e["at"] + shift}
            )
        for c in p.consents:
            out["consents"].append({**c, "draft_id": draft_id, "at": c["at"] + shift})
        for m in p.mail:
            created = m["created_at"] + shift
            out["outbox"].append(
                {
                    **m,
                    "draft_id": draft_id,
                    "to_addr": email if m["kind"] == "resume_link" else m["to_addr"],
                    "message_id": outbox_mail.new_message_id(self.settings),
                    "dedupe_key": m["dedupe_key"].replace(p.id, draft_id),
                    "created_at": created,
                    "due_at": m["due_at"] + shift,
                    **_sent(created + dt.timedelta(seconds=4)),
                }
            )
        row = {
            **p.draft,
            "id": draft_id,
            "created_at": p.draft["created_at"] + shift,
            "updated_at": p.draft["updated_at"] + shift,
        }
        for name in ("completed_at", "link_sent_at", "resumed_at"):
            if row[name] is not None:
                row[name] += shift
        if row["email"]:
            row["email"] = email
        if row["phone"]:
            # What fields.clean makes of it (E.164), checked on the first few: the
            # phonenumbers library takes 0.3 ms a number.
            row["phone"] = "+1" + re.sub(r"\D", "", typed_phone)
            if n < 3:
                assert row["phone"] == clean(self.phone_field, typed_phone).value, typed_phone
        out["drafts"].append(row)
        exit_at = None
        if not p.completed and row["updated_at"] + self.idle < self.now:
            # The cadence's exit detection, for every draft idle that long (a partial lead or
            # not: the funnel counts where each left): idle time, then its next pass.
            exit_at = min(
                self.now, row["updated_at"] + self.idle + dt.timedelta(seconds=rng.randrange(90))
            )
            row.update(
                exit_at=exit_at, exits=1, first_exit_step=p.exit_step, first_exit_field=p.exit_field
            )
            out["events"].append(
                {
                    "dealer_id": self.dealer.id,
                    "draft_id": draft_id,
                    "widget": row["widget"],
                    "kind": "exited",
                    "step": p.exit_step,
                    "field": p.exit_field,
                    "at": exit_at,
                }
            )
        if p.captured_at is not None:
            self.lead(p, row, p.captured_at + shift, exit_at, first, last, out)

    def lead(
        self,
        p: Prototype,
        draft: dict[str, Any],
        captured: dt.datetime,
        exit_at: dt.datetime | None,
        first: str,
        last: str,
        out: dict[str, list[dict[str, Any]]],
    ) -> None:
        rng, now = self.rng, self.now
        lead_id = self.next_lead
        self.next_lead += 1
        self.result.leads += 1
        draft["lead_id"] = lead_id
        owner = None
        if self.reps and rng.random() >= UNASSIGNED:
            owner = self.reps[self.turn % len(self.reps)]  # staff.next_owner's round-robin
            self.turn += 1
            self.last_assigned[owner] = captured
        name = {"Pat Lee": f"{first} {last}", "Pat": first}.get(p.lead_name, p.lead_name)
        lead = {
            "id": lead_id,
            "dealer_id": self.dealer.id,
            "email": draft["email"],
            "phone": draft["phone"],
            "name": name,
            "status": "new",
            "lost_reason": None,
            "appointment_at": None,
            "owner_id": owner,
            "captured_at": captured,
            "first_attempt_at": None,
            "last_attempt_at": None,
            "attempts": 0,
            "touches_sent": 0,
            "last_activity_at": draft["updated_at"],
            "widgets": draft["widget"],
            "widget": draft["widget"],
            "step": draft["step"],
            "exit_at": None,
            "exit_step": None,
            "exit_field": None,
            "came_back_at": (
                p.came_back_at + (captured - p.captured_at)
                if p.came_back_at is not None and p.captured_at is not None
                else None
            ),
            "callback_due_at": None,
            "duplicate_of": None,
            "followup_stopped": False,
            "demo": False,
        }
        out["leads"].append(lead)
        if exit_at is not None:
            lead.update(exit_at=exit_at, exit_step=p.exit_step, exit_field=p.exit_field)
        stopped_at = self.follow_through(lead, owner, out) if owner is not None else None
        draft["lead_status"] = lead["status"]
        if exit_at is None or not p.follows_up or not draft["email"]:
            return
        if stopped_at is not None and stopped_at <= exit_at:
            return  # past New at the exit: cadence.touches_allowed queues nothing
        touches = outbox_mail.followups(
            self.settings,
            draft_id=draft["id"],
            to_addr=draft["email"],
            exit_number=1,
            exit_step=p.exit_step,
            exit_field=p.exit_field,
            cadence_version=self.dealer.config.cadence_version,
            due=touch_times(exit_at, self.dealer.config, self.dealer.timezone),
        )
        stopped = 0
        for touch in touches:
            row = touch.row(self.dealer.id, draft["id"], exit_at)
            if stopped_at is not None and row["due_at"] > stopped_at:
                row.update(status="stopped")
                stopped += 1
            elif row["due_at"] <= now:
                row.update(_sent(row["due_at"] + dt.timedelta(seconds=3)))
                lead["touches_sent"] += 1  # what the worker adds as it sends one
            out["outbox"].append(row)
        if stopped:
            assert stopped_at is not None
            out["lead_activity"].append(
                _activity(
                    lead,
                    None,
                    "followup_stopped",
                    stopped_at,
                    detail={"stopped": stopped, "why": "status"},
                )
            )

    def follow_through(
        self, lead: dict[str, Any], owner: int, out: dict[str, list[dict[str, Any]]]
    ) -> dt.datetime | None:
        """The owner's attempts and statuses, as followthrough.attempt and set_status write
        them; return when the lead left New (the cadence stops then), if it did."""
        rng, now = self.rng, self.now
        captured = lead["captured_at"]
        if now - captured < dt.timedelta(minutes=5):
            return None
        weights = STATUSES_FIRST_DAY if now - captured < dt.timedelta(days=1) else STATUSES_LATER
        status = rng.choices(list(weights), list(weights.values()))[0]
        if status == "new":
            return None
        reaching = status in AFTER_REACHING or (status == "lost" and rng.random() < 0.5)
        count = rng.randint(1, 4) if status != "attempting" else rng.randint(1, 3)
        at = captured + dt.timedelta(minutes=rng.uniform(2, 240))
        times = []
        for _ in range(count):
            times.append(min(at, now - dt.timedelta(minutes=1)))
            at += dt.timedelta(minutes=rng.uniform(30, 2880))
        current = "new"
        for number, when in enumerate(times):
            last = number == len(times) - 1
            outcome = (
                rng.choice(("reached", "replied"))
                if last and reaching
                else rng.choice(("voicemail", "no_answer", "no_answer"))
            )
            channel = rng.choice(("call", "call", "call", "text", "email"))
            out["lead_activity"].append(
                _activity(lead, owner, "attempt", when, channel=channel, outcome=outcome)
            )
            out["audit"].append(
                _audit(
                    lead, owner, "attempt_logged", when, {"channel": channel, "outcome": outcome}
                )
            )
            moved = (
                "contacted"
                if outcome in REACHED and current in {"new", "attempting"}
                else ("attempting" if current == "new" else current)
            )
            if moved != current:
                out["lead_activity"].append(
                    _activity(lead, owner, "status", when, detail={"from": current, "to": moved})
                )
                current = moved
        if status != current:
            when = min(now, times[-1] + dt.timedelta(minutes=rng.uniform(5, 60)))
            detail: dict[str, Any] = {"from": current, "to": status}
            if status == "lost":
                detail["reason"] = lead["lost_reason"] = rng.choice(LOST_REASONS)
            if status in {"appointment_set", "shown", "no_show"}:
                lead["appointment_at"] = times[-1] + dt.timedelta(days=rng.randint(1, 5))
                detail["appointment"] = lead["appointment_at"].isoformat()
            out["lead_activity"].append(_activity(lead, owner, "status", when, detail=detail))
            out["audit"].append(_audit(lead, owner, "status_changed", when, detail))
        lead.update(
            status=status,
            attempts=len(times),
            first_attempt_at=times[0],
            last_attempt_at=times[-1],
        )
        return times[0]


def _sent(at: dt.datetime) -> dict[str, Any]:
    """What the worker leaves on a row it sent."""
    return {"status": "sent", "attempts": 1, "sent_at": at, "reply": "250 2.0.0 Ok: queued"}


def _activity(
    lead: dict[str, Any], staff_id: int | None, kind: str, at: dt.datetime, **more: Any
) -> dict[str, Any]:
    return {
        "lead_id": lead["id"],
        "dealer_id": lead["dealer_id"],
        "staff_id": staff_id,
        "kind": kind,
        "at": at,
        "channel": more.get("channel"),
        "outcome": more.get("outcome"),
        "note": None,
        "detail": more.get("detail", {}),
    }


def _audit(
    lead: dict[str, Any], staff_id: int, action: str, at: dt.datetime, detail: dict[str, Any]
) -> dict[str, Any]:
    return {
        "at": at,
        "staff_id": staff_id,
        "dealer_id": lead["dealer_id"],
        "action": action,
        "subject": f"lead:{lead['id']}",
        "detail": detail,
        "ip": "203.0.113.20",
    }


# Foreign keys first: a draft names its lead.
ORDER = (leads, drafts, field_values, events, consents, outbox, lead_activity, audit)
# Every table's defaults filled in, so executemany sends one shape of row per table.
DEFAULTS = {
    "outbox": {
        "status": "pending",
        "attempts": 0,
        "sent_at": None,
        "reply": None,
        "leased_until": None,
        "lease_owner": None,
        "last_error": None,
    },
}


def insert_chunk(conn: Any, chunk: dict[str, list[dict[str, Any]]]) -> None:
    """One transaction: every table's rows in one executemany each."""
    for table in ORDER:
        rows = chunk[table.name]
        defaults = DEFAULTS.get(table.name)
        if defaults:
            rows = [{**defaults, **r} for r in rows]
        if rows:
            conn.execute(insert(table), rows)


class Backend:
    """One database: made, migrated, seeded, served, measured, explained, dropped."""

    def __init__(self, name: str, url: str, folder: Path, port: int, analyze: bool) -> None:
        self.name, self.url, self.folder, self.port = name, url, folder, port
        self.analyze = analyze
        self.env = bench_env(url, folder, port)
        self.settings = Settings.from_env(self.env)
        self.seeded: list[Seeded] = []
        self.reps: dict[str, list[tuple[str, str]]] = {}  # slug -> [(email, invitation)]
        self.manager_link = ""
        self.dealer_ids: dict[str, int] = {}
        self.manager_id = 0
        self.inviting: subprocess.Popen[str] | None = None

    def cli(self, *argv: str) -> subprocess.Popen[str]:
        """Start `python -m resume ARGV` on this database; `done` waits for it."""
        return subprocess.Popen(
            [run.python(), "-m", "resume", *argv],
            env=self.env,
            cwd=self.folder,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def done(self, command: subprocess.Popen[str]) -> str:
        out, err = command.communicate(timeout=300)
        if command.returncode != 0:
            raise SystemExit(f"{' '.join(command.args[3:])} failed on {self.name}:\n{err}")
        return out

    def prepare(self, drafts_: int) -> float:
        """Migrate, make the dealerships and their people, seed; return the seconds it took."""
        started = time.monotonic()
        self.done(self.cli("migrate"))
        asyncio.run(self._seed(drafts_))
        assert self.inviting is not None
        found = INVITATION.search(self.done(self.inviting))
        if not found:
            raise SystemExit("resume staff add printed no invitation")
        self.manager_link = urlsplit(found[1]).path
        return time.monotonic() - started

    async def _seed(self, total: int) -> None:
        await seed_demo_motors(self.settings)  # Demo Motors as `resume demo` makes it
        # The manager, invited as an admin would, while the drafts go in.
        self.inviting = self.cli("staff", "add", MANAGER, "--dealer", DEMO, "--role", "manager")
        db = Database(self.settings)
        try:
            ring = await prepare(db, self.settings.data_keys)
            accounts = Accounts(self.settings, db, ring, Signer(self.settings.secret_keys))
            async with db.write() as conn:
                demo = await dealers_q.get_by_slug(conn, DEMO)
                other = await dealers_q.add(conn, config=check_config(DealerConfig()), **OTHER)
            assert demo is not None
            catalog = Catalog.load()
            now = dt.datetime.now(dt.UTC)
            rng = random.Random(9)
            next_lead = 1 + int(
                (await _scalar(db, select(func.coalesce(func.max(leads.c.id), 0)))) or 0
            )
            for dealer, count in ((demo, total), (other, max(1, total // OTHER_SHARE))):
                self.dealer_ids[dealer.slug] = dealer.id
                reps = []
                self.reps[dealer.slug] = []
                for number, role_name in enumerate(REPS[dealer.slug]):
                    email = f"{role_name}{number + 1}@{dealer.slug}.example"
                    link = await accounts.invite(email, role_name, (dealer.id,))
                    self.reps[dealer.slug].append((email, urlsplit(link).path))
                    async with db.read() as conn:
                        account = await staff_q.by_email(conn, email)
                    assert account is not None
                    reps.append(account.id)
                protos = [plan(s, dealer, catalog, ring, self.settings) for s in SHAPES]
                seeder = Seeder(
                    dealer, reps, protos, catalog, self.settings, count, now, next_lead, rng
                )
                started = time.monotonic()
                writing: Any = None
                for first in range(0, count, CHUNK):
                    # The next chunk is made while the writer thread inserts this one.
                    chunk = seeder.chunk(first, CHUNK)
                    if writing is not None:
                        await writing
                    writing = asyncio.ensure_future(db.run_write(insert_chunk, chunk))
                    progress(
                        f"  {self.name}: seeded {seeder.result.drafts:,} of {count:,} drafts "
                        f"for {dealer.name} ({seeder.result.leads:,} leads, "
                        f"{time.monotonic() - started:.0f} s)"
                    )
                await writing
                progress("", done=True)
                next_lead = seeder.next_lead
                await keep_last_assigned(db, seeder)
                self.seeded.append(seeder.result)
        finally:
            await db.dispose()
        if self.name == "postgresql":
            await pg(
                self.url,
                "SELECT setval(pg_get_serial_sequence('leads', 'id'), (SELECT MAX(id) FROM leads))",
                "VACUUM ANALYZE",
            )
        else:
            with sqlite3.connect(self.url.split(":///", 1)[1]) as conn:
                if self.analyze:  # --analyze: what the planner does with statistics
                    conn.execute("ANALYZE")
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    async def lead_sample(self, count: int) -> list[int]:
        """Demo Motors' seeded leads, a varied sample of them."""
        db = Database(self.settings)
        try:
            async with db.read() as conn:
                ids = list(
                    (
                        await conn.execute(
                            select(leads.c.id).where(
                                leads.c.dealer_id == self.dealer_ids[DEMO], leads.c.demo.is_(False)
                            )
                        )
                    ).scalars()
                )
                manager = await staff_q.by_email(conn, MANAGER)
                assert manager is not None
                self.manager_id = manager.id
        finally:
            await db.dispose()
        random.Random(20).shuffle(ids)
        return ids[:count]


async def keep_last_assigned(db: Database, seeder: Seeder) -> None:
    """Each rep's last lead on their staff_dealers row, as the round-robin keeps it."""
    async with db.write() as conn:
        for staff_id, at in seeder.last_assigned.items():
            await conn.execute(
                update(staff_dealers)
                .where(
                    staff_dealers.c.staff_id == staff_id,
                    staff_dealers.c.dealer_id == seeder.dealer.id,
                )
                .values(last_assigned_at=at)
            )


async def _scalar(db: Database, query: Any) -> Any:
    async with db.read() as conn:
        return (await conn.execute(query)).scalar_one()


async def pg(url: str, *statements: str) -> None:
    """Run statements on a PostgreSQL database outside a transaction (VACUUM, CREATE)."""
    import asyncpg

    conn = await asyncpg.connect(url.replace("+asyncpg", ""), timeout=10)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


_progress_width = [0]


def progress(line: str, *, done: bool = False) -> None:
    """A progress line on stderr, rewritten in place."""
    if done:
        print(file=sys.stderr, flush=True)
        _progress_width[0] = 0
        return
    pad = max(0, _progress_width[0] - len(line))
    print("\r" + line + " " * pad, end="", file=sys.stderr, flush=True)
    _progress_width[0] = len(line)


def bench_env(url: str, folder: Path, port: int) -> dict[str, str]:
    """The environment of every child: this run's database and keys, nothing else."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESUME_")}
    env.update(
        PYTHONPATH=str(ROOT / "src"),
        RESUME_DATABASE_URL=url,
        RESUME_SECRET_KEYS=SECRET,
        RESUME_DATA_KEYS=DATA_KEY,
        RESUME_BASE_URL=f"http://127.0.0.1:{port}",
        RESUME_MAIL_DIR=str(folder / "mail"),
        RESUME_MIN_FORM_SECONDS="0",
        RESUME_RATE_LIMIT_IP="100000000",
        RESUME_RATE_LIMIT_DRAFT="100000000",
        RESUME_LOG_LEVEL="WARNING",
    )
    return env


# ---------------------------------------------------------------------------------------
# The server and the browser.


class Server:
    """`resume serve --no-worker` pinned to the server core, stopped with SIGTERM."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.log_path = backend.folder / f"server-{backend.name}.log"
        self.log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        argv = [run.python(), "-m", "resume", "serve", "--no-worker"]
        argv += ["--host", "127.0.0.1", "--port", str(backend.port)]
        self.proc = subprocess.Popen(
            ["taskset", "-c", SERVER_CORE, *argv],
            env=backend.env,
            cwd=backend.folder,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"the server exited early; see {self.log_path}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{backend.port}/healthz", timeout=2):
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise SystemExit(f"the server did not answer within 120 s; see {self.log_path}")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode


class Unexpected(Exception):
    """A response with another status than the one the request should get."""


@dataclass
class Reply:
    status: int
    location: str
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class Browser:
    """One keep-alive HTTP/1.1 connection (http.client) with a browser's cookies; counts
    every response by request and status, and refuses an unexpected one."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.cookies: dict[str, str] = {}
        self.statuses: Counter[str] = Counter()
        self.errors: list[str] = []

    def request(
        self, label: str, method: str, path: str, body: bytes | dict[str, str] | None = None,
        expect: int = 200,
    ) -> Reply:  # fmt: skip
        headers = {"User-Agent": "resume-bench (dashboard)", "Accept": "text/html"}
        if isinstance(body, dict):
            body = urlencode(body).encode()
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookies and path.startswith("/dashboard"):
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        data = response.read()
        for cookie in response.headers.get_all("Set-Cookie") or []:
            pair, _, attributes = cookie.partition(";")
            name, _, value = pair.strip().partition("=")
            if "max-age=0" in attributes.lower().replace(" ", "") or not value:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value.strip('"')
        location = response.getheader("Location") or ""
        if location.startswith("http"):
            parts = urlsplit(location)
            location = parts.path + (f"?{parts.query}" if parts.query else "")
        self.statuses[f"{label}:{response.status}"] += 1
        if response.status != expect:
            if len(self.errors) < 20:
                self.errors.append(f"{method} {path[:120]}: {response.status}, not {expect}")
            raise Unexpected(f"{method} {path} answered {response.status}: {data[:300]!r}")
        return Reply(response.status, location, data)

    def close(self) -> None:
        self.conn.close()


def csrf_of(reply: Reply) -> str:
    found = CSRF.search(reply.text)
    if not found:
        raise SystemExit(f"no CSRF token on the page: {reply.text[:300]}")
    return html.unescape(found[1])


def accept(browser: Browser, link: str) -> tuple[str, int]:
    """Accept an invitation as its person would: a password, then the authenticator app
    from the key on the page. Return the TOTP key and the time step of the code used."""
    import pyotp

    page = browser.request("setup", "GET", link)
    fields = {"csrf": csrf_of(page), "password": PASSWORD, "again": PASSWORD}
    moved = browser.request("setup", "POST", link, fields, expect=303)
    enrol = browser.request("setup", "GET", moved.location)
    key = TOTP_KEY.search(enrol.text)
    if not key:
        raise SystemExit(f"no TOTP key on the enrolment page: {enrol.text[:300]}")
    secret = key[1].replace(" ", "")
    step = int(time.time()) // 30
    code = pyotp.TOTP(secret).generate_otp(step)
    browser.request("setup", "POST", f"{link}/mfa", {"csrf": csrf_of(enrol), "code": code})
    return secret, step


def sign_in(browser: Browser, email: str, secret: str, used: int) -> str:
    """Sign in with the password and a fresh code; return the session's CSRF token."""
    import pyotp

    page = browser.request("setup", "GET", "/dashboard/login")
    fields = {"csrf": csrf_of(page), "email": email, "password": PASSWORD}
    fields["next"] = "/dashboard/leads"
    moved = browser.request("setup", "POST", "/dashboard/login", fields, expect=303)
    page = browser.request("setup", "GET", moved.location)
    # A code is accepted once: in the enrolment's time step, the next one (an app's clock
    # may run a step ahead, and the server allows for it).
    step = max(int(time.time()) // 30, used + 1)
    code = pyotp.TOTP(secret).generate_otp(step)
    fields = {"csrf": csrf_of(page), "code": code, "next": "/dashboard/leads"}
    moved = browser.request("setup", "POST", "/dashboard/login/code", fields, expect=303)
    return csrf_of(browser.request("setup", "GET", moved.location))


# ---------------------------------------------------------------------------------------
# Measuring.


def percentile(values: list[float], p: float) -> float:
    """Nearest rank on the sorted values, in ms (loadgen.py's definition)."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(round(p * (len(ordered) - 1))))] * 1000


class Session:
    """The signed-in manager's browser and the operations it times, one request at a time."""

    def __init__(
        self, browser: Browser, csrf: str, lead_ids: list[int], args: argparse.Namespace, pid: int
    ) -> None:
        self.b, self.csrf, self.args, self.pid = browser, csrf, args, pid
        self.lead_ids = lead_ids
        self.shown = 0
        self.changed = 0
        self.n = 0
        self.token = b""
        self.deep_url = ""
        self.depth = 0
        self.rows: dict[str, dict[str, Any]] = {}
        zone_now = dt.datetime.now(dt.UTC) + dt.timedelta(days=7)
        self.appointment = zone_now.strftime("%Y-%m-%dT14:30")

    # Each operation returns the seconds it took, from the first byte sent to the last read.

    def step(self) -> float:
        if not self.token:
            self.token = loadgen.token_of(self.b.request("step GET", "GET", FIRST_PAGE).body)
        body = loadgen.form_body(self.token, 1, self.n)
        self.n += 1
        started = time.perf_counter()
        saved = self.b.request("step POST", "POST", STEP_URL, body, expect=303)
        page = self.b.request("step GET", "GET", saved.location)
        took = time.perf_counter() - started
        self.token = loadgen.token_of(page.body)
        return took

    def get(self, label: str, path: str) -> float:
        started = time.perf_counter()
        self.b.request(label, "GET", path)
        return time.perf_counter() - started

    def list(self) -> float:
        return self.get("list GET", "/dashboard/leads")

    def filtered(self) -> float:
        return self.get("filtered GET", "/dashboard/leads?" + urlencode(FILTERED))

    def find_deep_page(self) -> None:
        """Follow the filtered list's "Next page" links to page PAGE_DEPTH (or its last)."""
        url = "/dashboard/leads?" + urlencode(FILTERED)
        depth = 1
        while depth < PAGE_DEPTH:
            found = NEXT.search(self.b.request("page GET", "GET", url).text)
            if not found:
                break
            url, depth = html.unescape(found[1]), depth + 1
        self.deep_url, self.depth = url, depth

    def page20(self) -> float:
        return self.get("page GET", self.deep_url)

    def lead(self) -> float:
        lead_id = self.lead_ids[self.shown % len(self.lead_ids)]
        self.shown += 1
        return self.get("lead GET", f"/dashboard/leads/{lead_id}")

    STATUSES = ("contacted", "attempting", "appointment_set", "lost")

    def status(self) -> float:
        # 199 leads from the end of the sample, in turn: 199 is not a multiple of the four
        # statuses, so each lead gets the next status each time it comes round.
        lead_id = self.lead_ids[-1 - self.changed % min(199, len(self.lead_ids))]
        status = self.STATUSES[self.changed % len(self.STATUSES)]
        self.changed += 1
        fields = {"csrf": self.csrf, "status": status, "appointment": "", "reason": ""}
        if status == "appointment_set":
            fields["appointment"] = self.appointment
        if status == "lost":
            fields["reason"] = "not_ready"
        started = time.perf_counter()
        moved = self.b.request(
            "status POST", "POST", f"/dashboard/leads/{lead_id}/status", fields, expect=303
        )
        self.b.request("status GET", "GET", moved.location)
        return time.perf_counter() - started

    def measure(self, key: str, op: Any, duration: float) -> list[float]:
        """Warm up, then time `op` back to back for `duration` seconds; add the row."""
        # No wait allowed (--quiet-wait 0, the smoke run): not even run.py's short sample.
        quiet = run.wait_for_quiet(self.args.quiet_wait) if self.args.quiet_wait > 0 else -1.0
        # The server closes a keep-alive connection idle for 5 s (uvicorn's default): the
        # row starts on a fresh one, opened in its warm-up.
        self.b.close()
        failed = ""
        times: list[float] = []
        server0, client0 = loadgen.cpu_seconds(self.pid), loadgen.cpu_seconds(None)
        ticks0 = loadgen.core_ticks()
        started = time.perf_counter()
        try:
            warm_until = time.perf_counter() + self.args.warmup
            while time.perf_counter() < warm_until:
                op()
            server0, client0 = loadgen.cpu_seconds(self.pid), loadgen.cpu_seconds(None)
            ticks0 = loadgen.core_ticks()
            started = time.perf_counter()
            while time.perf_counter() < started + duration:
                times.append(op())
        except (Unexpected, OSError, http.client.HTTPException, ValueError) as exc:
            failed = f"{type(exc).__name__}: {exc}"[:500]
            self.b.close()  # a fresh connection for the next row
        wall = max(1e-9, time.perf_counter() - started)
        server = loadgen.cpu_seconds(self.pid) - server0
        client = loadgen.cpu_seconds(None) - client0
        busy = loadgen.core_busy(ticks0, loadgen.core_ticks())
        others = max(0.0, busy.get("cpu" + SERVER_CORE, 0.0) - server / wall) + max(
            0.0, busy.get("cpu" + CLIENT_CORE, 0.0) - client / wall
        )
        row = self.rows.setdefault(key, {"samples": [], "server_cpu_s": 0.0, "wall_s": 0.0})
        row["samples"] += times
        row["server_cpu_s"] += server
        row["client_cpu_s"] = row.get("client_cpu_s", 0.0) + client
        row["wall_s"] += wall
        row["others"] = max(row.get("others", 0.0), others)
        row["busy_before"] = max(row.get("busy_before", 0.0), quiet)
        if failed:
            row["failed"] = failed
        return times


def figures(row: dict[str, Any]) -> dict[str, Any]:
    samples = row["samples"]
    count = len(samples)
    return {
        "count": count,
        "p50_ms": percentile(samples, 0.50),
        "p90_ms": percentile(samples, 0.90),
        "p99_ms": percentile(samples, 0.99),
        "max_ms": max(samples) * 1000 if samples else 0.0,
        "mean_ms": statistics.fmean(samples) * 1000 if samples else 0.0,
        "server_cpu_ms": row["server_cpu_s"] / count * 1000 if count else 0.0,
        "server_cpu_share": row["server_cpu_s"] / row["wall_s"] if row["wall_s"] else 0.0,
        "others": row.get("others", 0.0),
        "busy_before": row.get("busy_before", 0.0),
        "failed": row.get("failed", ""),
    }


def measure_backend(backend: Backend, args: argparse.Namespace) -> dict[str, Any]:
    lead_ids = asyncio.run(backend.lead_sample(500))
    if not lead_ids:
        raise SystemExit("no leads were seeded")
    started = time.monotonic()
    server = Server(backend)
    browser = Browser(backend.port)
    affinity = os.sched_getaffinity(0)
    try:
        for reps in backend.reps.values():
            for _, link in reps:
                accept(browser, link)
                browser.cookies.clear()
        secret, used = accept(browser, backend.manager_link)
        browser.cookies.clear()
        csrf = sign_in(browser, MANAGER, secret, used)
        setup = time.monotonic() - started
        os.sched_setaffinity(0, {int(CLIENT_CORE)})  # the client: this process, on core 1
        session = Session(browser, csrf, lead_ids, args, server.proc.pid)
        progress(f"  {backend.name}: measuring ...")
        first_step = session.measure("step", session.step, args.duration)
        session.measure("list", session.list, args.duration)
        session.measure("filtered", session.filtered, args.duration)
        session.find_deep_page()
        session.measure("page20", session.page20, args.duration)
        session.measure("lead", session.lead, args.duration)
        session.measure("status", session.status, args.duration)
        last_step = session.measure("step", session.step, args.duration)
        progress("", done=True)
    finally:
        os.sched_setaffinity(0, affinity)
        browser.close()
        exit_code = server.stop()
    rows = {key: figures(session.rows[key]) for key in ROWS if key in session.rows}
    step = rows.get("step", {})
    for figure in rows.values():
        figure["p50_ratio"] = figure["p50_ms"] / step["p50_ms"] if step.get("p50_ms") else 0.0
        figure["p99_ratio"] = figure["p99_ms"] / step["p99_ms"] if step.get("p99_ms") else 0.0
    return {
        "rows": rows,
        "step_windows": {
            "first": {
                "count": len(first_step),
                "p50_ms": percentile(first_step, 0.5),
                "p99_ms": percentile(first_step, 0.99),
            },
            "last": {
                "count": len(last_step),
                "p50_ms": percentile(last_step, 0.5),
                "p99_ms": percentile(last_step, 0.99),
            },
        },  # fmt: skip
        "page_depth": session.depth,
        "deep_after": dict(parse_qsl(urlsplit(session.deep_url).query)).get("after", ""),
        "statuses": dict(browser.statuses),
        "errors": browser.errors,
        "server_exit": exit_code,
        "setup_seconds": setup,
        "measure_seconds": time.monotonic() - started - setup,
    }


# ---------------------------------------------------------------------------------------
# The lead list's queries, explained.


async def explain(backend: Backend, deep_after: str) -> list[dict[str, Any]]:
    """Serve the lead list's pages in-process as the route does (Casework.page, for the
    manager) on the seeded database, catch the SQL each one runs, and explain it."""
    db = Database(backend.settings)
    caught: list[tuple[str, Any]] = []

    def catch(conn: Any, cursor: Any, statement: str, parameters: Any, *rest: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM dealers" not in statement:
            caught.append((statement, parameters))

    now = dt.datetime.now(dt.UTC)
    when, _, last_id = deep_after.partition("|")
    after = (dt.datetime.fromisoformat(when), int(last_id)) if deep_after else None
    found = []
    try:
        ring = await prepare(db, backend.settings.data_keys)
        work = Casework(
            backend.settings, db, ring, Signer(backend.settings.secret_keys), Catalog.load()
        )
        async with db.read() as conn:
            account = await staff_q.get(conn, backend.manager_id)
        assert account is not None
        chosen = work.scope(account)
        narrowed = msgspec.structs.replace(
            chosen, status=FILTERED["status"], widget=FILTERED["widget"], needs_action=True
        )
        event.listen(db.reader.sync_engine, "before_cursor_execute", catch)
        pages = [("first page", chosen, None), ("filtered", narrowed, None)]
        if after is not None:
            pages.append((f"filtered, page {PAGE_DEPTH}", narrowed, after))
        for label, where, cursor in pages:
            caught.clear()
            await work.page(account, where, after=cursor, now=now)
            statements = list(caught)
            caught.clear()
            for statement, parameters in statements:
                what = (
                    "follow-ups sent" if "FROM outbox" in statement
                    else "count" if "count(" in statement.lower()
                    else "rows"
                )  # fmt: skip
                async with db.read() as conn:
                    if db.is_sqlite:
                        plan_rows = await conn.exec_driver_sql(
                            "EXPLAIN QUERY PLAN " + statement, parameters
                        )
                        lines = _tree(plan_rows.all())
                    else:
                        plan_rows = await conn.exec_driver_sql(
                            "EXPLAIN (ANALYZE, BUFFERS, TIMING OFF) " + statement, parameters
                        )
                        lines = [r[0] for r in plan_rows.all()]
                    took = []
                    for _ in range(15):
                        started = time.perf_counter()
                        (await conn.exec_driver_sql(statement, parameters)).all()
                        took.append(time.perf_counter() - started)
                entry = {
                    "query": f"{label}, {what}",
                    "sql": statement,
                    "parameters": [str(p) for p in (parameters or ())],
                    "plan": lines,
                    "ms": statistics.median(took) * 1000,
                }
                entry["verdict"], entry["by_index"] = verdict(entry, db.is_sqlite)
                found.append(entry)
    finally:
        await db.dispose()
    return found


def _tree(rows: list[Any]) -> list[str]:
    """EXPLAIN QUERY PLAN's rows (id, parent, notused, detail), indented as sqlite3 shows them."""
    depth: dict[int, int] = {0: -1}
    lines = []
    for row in rows:
        depth[row[0]] = depth.get(row[1], -1) + 1
        lines.append("  " * depth[row[0]] + str(row[3]))
    return lines


def verdict(entry: dict[str, Any], sqlite_: bool) -> tuple[str, bool]:
    """What a plan reads: the leads through an index led by the dealership, or (the sent
    follow-ups) the page's own drafts; anything else is said plainly."""
    text = "\n".join(entry["plan"])
    if "FROM outbox" in entry["sql"]:
        first = next((line for line in entry["plan"] if "outbox" in line or "drafts" in line), "")
        if sqlite_:
            ok = "drafts USING INDEX ix_drafts_lead" in first
        else:
            ok = "ix_drafts_lead" in text and "Seq Scan on outbox" not in text
            ok = ok and "ix_outbox_due" not in text
        if ok:
            return "driven by the page's leads (ix_drafts_lead, then ix_outbox_draft)", True
        return "NOT driven by the page's leads: reads the sent mail of every draft", False
    if sqlite_:
        ok = "SEARCH leads USING" in text and "ix_leads_dealer" in text
    else:
        ok = "ix_leads_dealer" in text and "Seq Scan on leads" not in text
    return ("reads an index led by dealer_id" if ok else "NOT by an index led by dealer_id"), ok


# ---------------------------------------------------------------------------------------
# The report.


def short_sql(sql: str) -> str:
    sql = re.sub(r"\s+", " ", sql)
    return re.sub(r"^SELECT .*? FROM", "SELECT … FROM", sql, count=1)


def table(report: dict[str, Any]) -> str:
    lines = [
        f"resume dashboard benchmark (issue #9), {report['date']}, {report['machine']}",
        f"warm-up {report['warmup']} s, measured {report['duration']} s per row (the step "
        "twice: first and last, pooled); one keep-alive connection, one request at a time;",
        "server on core 0 (taskset), client on core 1; latency from the first byte sent to the "
        "last byte read",
    ]
    for b in report["backends"]:
        seeded = ", ".join(
            f"{s['dealer']} {s['drafts']:,} drafts / {s['leads']:,} leads" for s in b["seeded"]
        )
        lines += [
            "",
            f"{b['name']}: {seeded}; seeded in {b['seed_seconds']:.0f} s",
            f"{'row':<45}{'n':>6}{'p50 ms':>8}{'p90 ms':>8}{'p99 ms':>8}{'srv CPU':>9}"
            f"{'p50/step':>9}{'p99/step':>9}{'others':>7}",
        ]
        for key in ROWS:
            r = b["rows"].get(key)
            if r is None:
                continue
            lines.append(
                f"{TITLES[key]:<45}{r['count']:>6}{r['p50_ms']:>8.2f}{r['p90_ms']:>8.2f}"
                f"{r['p99_ms']:>8.2f}{r['server_cpu_ms']:>7.2f}ms{r['p50_ratio']:>9.2f}"
                f"{r['p99_ratio']:>9.2f}{r['others'] * 100:>6.0f}%"
                + (f"  FAILED: {r['failed']}" if r["failed"] else "")
            )
        w = b["step_windows"]
        lines += [
            "srv CPU: the server's CPU time per row's operation; others: CPU other processes took "
            "on the two cores (share of a core; on PostgreSQL the database's own processes too)",
            f"the step's two windows: first p50 {w['first']['p50_ms']:.2f} / p99 "
            f"{w['first']['p99_ms']:.2f} ms, last p50 {w['last']['p50_ms']:.2f} / p99 "
            f"{w['last']['p99_ms']:.2f} ms; the deep page is page {b['page_depth']} of the "
            "filtered list",
            "responses: "
            + ", ".join(f"{k} {v}" for k, v in sorted(b["statuses"].items()))
            + (" -> all as expected" if b["ok"] else f" -> UNEXPECTED: {b['errors'][:3]}"),
            "",
            "query plans of the lead list (Demo Motors, as the manager sees it; "
            + ("EXPLAIN QUERY PLAN" if b["name"] == "sqlite" else "EXPLAIN ANALYZE")
            + "; ms: the statement alone, in-process, median of 15):",
        ]
        for entry in b["plans"]:
            lines.append(f"  {entry['query']}: {entry['ms']:.2f} ms, {entry['verdict']}")
            lines.append(f"    {short_sql(entry['sql'])}")
            lines += [f"      {line}" for line in entry["plan"]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--drafts", type=int, default=100_000, help="Demo Motors' drafts")
    parser.add_argument(
        "--postgres", nargs="?", const=PG_SERVER, default="",
        help=f"also run on a fresh database on this PostgreSQL server (default {PG_SERVER})",
    )  # fmt: skip
    parser.add_argument("--duration", type=float, default=10.0, help="seconds measured per row")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up per row")
    parser.add_argument(
        "--quiet-wait", type=float, default=120.0,
        help="before each row, wait up to this long for other work on the machine to stop",
    )  # fmt: skip
    parser.add_argument(
        "--analyze", action="store_true",
        help="run ANALYZE on the SQLite file after seeding (the product never does)",
    )  # fmt: skip
    parser.add_argument("--keep", action="store_true", help="keep the databases and logs")
    parser.add_argument("--results", type=Path, default=run.RESULTS)
    args = parser.parse_args(argv)
    if shutil.which("taskset") is None or (os.cpu_count() or 1) < 2:
        raise SystemExit("needs taskset and two cores (server on 0, client on 1)")
    if not 100 <= args.drafts <= 2_000_000:
        raise SystemExit("--drafts takes 100 to 2,000,000")

    folder = Path(tempfile.mkdtemp(prefix="resume-dashboard-"))
    targets = [("sqlite", f"sqlite+aiosqlite:///{folder}/dashboard.db")]
    pg_name = ""
    if args.postgres:
        pg_name = f"resume_dashboard_{os.getpid()}_{secrets.token_hex(3)}"
        targets.append(
            (
                "postgresql",
                f"{args.postgres.replace('postgresql://', 'postgresql+asyncpg://')}/{pg_name}",
            )
        )
    backends = []
    try:
        if pg_name:
            asyncio.run(pg(f"{args.postgres}/postgres", f'CREATE DATABASE "{pg_name}"'))
        for name, url in targets:
            backend = Backend(name, url, folder, run.free_port(), args.analyze)
            print(f"{name}: migrating and seeding ...", file=sys.stderr, flush=True)
            seconds = backend.prepare(args.drafts)
            result = measure_backend(backend, args)
            plans = asyncio.run(explain(backend, result.pop("deep_after")))
            ok = (
                not result["errors"]
                and all(not r["failed"] and r["count"] > 0 for r in result["rows"].values())
                and set(result["rows"]) == set(ROWS)
                and all(k.endswith((":200", ":303")) for k in result["statuses"])
            )
            backends.append(
                {
                    "name": name,
                    "seed_seconds": seconds,
                    "seeded": [
                        {
                            "dealer": s.dealer.name,
                            "drafts": s.drafts,
                            "leads": s.leads,
                            "rows": dict(s.rows),
                        }
                        for s in backend.seeded
                    ],  # fmt: skip
                    **result,
                    "plans": plans,
                    "ok": ok,
                }
            )
    finally:
        if pg_name and not args.keep:
            asyncio.run(
                pg(f"{args.postgres}/postgres", f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
            )
        if args.keep:
            print(
                f"kept {folder}" + (f" and database {pg_name}" if pg_name else ""), file=sys.stderr
            )
        else:
            shutil.rmtree(folder, ignore_errors=True)

    report = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": run.machine(),
        "drafts": args.drafts,
        "warmup": args.warmup,
        "duration": args.duration,
        "backends": backends,
    }
    text = table(report)
    print(text)
    args.results.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    (args.results / f"dashboard-{stamp}.json").write_text(json.dumps(report, indent=2, default=str))
    (args.results / f"dashboard-{stamp}.txt").write_text(text + "\n")
    return 0 if all(b["ok"] for b in backends) else 1


if __name__ == "__main__":
    sys.exit(main())
