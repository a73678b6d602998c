"""Property-based fuzzing of every widget step over HTTP (issue #12, item 9).

For each widget and each step a shopper can reach (the consent and result steps, the
payment widget with the dealer's "contact before the result" setting, and the "Save and
finish later" page), every example drives a fresh shopper there with valid answers, then
sends one post Hypothesis made up: a subset of the step's own fields with odd text (any
unicode but surrogates, controls, bidirectional marks, numbers in odd formats, lengths at
and past the limits), the step's buttons or any `action` at all (`goto:` every step), extra
or repeated field names, a tampered credential, or a raw body with broken percent-encoding
or another content type. Whatever was sent:

1. the answer is never a 5xx, and neither is the page a 303 leads to;
2. a post of known fields with a button of the page is saved (a 303; the save page may
   answer 429 when a link limit holds, and still saves) and every field of the step is
   stored exactly as typed, sealed when the widget marks it sensitive; a field not posted
   is stored empty (resume.engine.validate);
3. a post with a field the step doesn't ask, or a name twice, is a 4xx;
4. a 4xx changes nothing at all, and no post changes anything outside its own draft: its
   drafts row, its values, events, consents, pre-qualification, outbox rows, the drafts
   carried from it, and the leads it belongs to.

The default profile, "ci" (tests/conftest.py), runs 8 examples a step, the same ones every
run: about 15 s on SQLite and 35 s on PostgreSQL here, most of it driving shoppers. Both
databases are fuzzed, PostgreSQL for its own reasons to refuse a value (lengths of
VARCHAR columns, characters). `./scripts/test --hypothesis-profile=long tests/test_fuzz.py`
runs a thousand a step, newly drawn each time. Each test builds the app once (Hypothesis'
function-scoped fixture check is suppressed for that, see FUZZ) and every example uses a
draft of its own, so examples don't depend on each other.
"""

from __future__ import annotations

import json
import logging
import operator
import re
import sqlite3
from collections.abc import Iterator
from html import unescape
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit

import hypothesis
import msgspec
import pytest
from conftest import NUMBERS, VEHICLE, VIEWS, Shopper, Store
from hypothesis import HealthCheck, given
from hypothesis import strategies as st
from litestar.testing import TestClient
from sqlalchemy import Table, text
from sqlalchemy.engine import make_url
from test_credit import ABOUT, ADDRESS, INCOME
from test_tradein import ACCORD, CONDITION, CONTACT

from resume.calc.vin import Vin, check_vin
from resume.catalog import Catalog
from resume.db import Database
from resume.definitions import RESERVED, Step
from resume.fields import Field
from resume.keyring import Keyring
from resume.settings import Settings
from resume.tables import metadata
from resume.web.app import create_app
from resume.web.forms import MAX_FIELD_CHARS

CATALOG = Catalog.load()
CONTACT_FIRST = "contact_before_result"


def _by_step(slug: str, typed: dict[str, str]) -> dict[str, dict[str, str]]:
    """Valid answers, each under the step that asks it now (steps split so that every step
    fits its frame, issue #11, item 2)."""
    found = {}
    for step in CATALOG.widgets[slug].steps:
        names = {field.name for field in step.fields}
        if part := {name: value for name, value in typed.items() if name in names}:
            found[step.name] = part
    return found


# Valid answers, step by step, that take a shopper to the step under test.
VALID: dict[str, dict[str, dict[str, str]]] = {
    "payment": _by_step(
        "payment",
        {
            **VEHICLE,
            **NUMBERS,
            "first_name": "Ana",
            "email": "ana@example.com",
            "phone": "(217) 555-0199",
            "consent_followup": "yes",
        },
    ),
    "trade-in": _by_step(
        "trade-in",
        {
            "vin": ACCORD,
            "year": "",
            "make": "",
            "model": "Accord",
            "trim": "EX",
            **CONDITION,
            "ownership": "finance",
            "lender": "Honda Financial",
            "payoff": "4,200",
            "lease_months_left": "",
            "buyout": "",
            **CONTACT,
        },
    ),
    "credit": _by_step("credit", {**ABOUT, **ADDRESS, **INCOME}),
}
SAVE_PAGE = "save"


class Target(msgspec.Struct, frozen=True):
    """A step (or the save page) of a widget, at a dealer with these settings."""

    widget: str
    step: str
    contact_first: bool = False

    @property
    def id(self) -> str:
        return f"{self.widget}{'+contact-first' if self.contact_first else ''}-{self.step}"

    def steps(self) -> tuple[Step, ...]:
        flags = frozenset({CONTACT_FIRST} if self.contact_first else ())
        return CATALOG.widgets[self.widget].steps_for(flags)

    def fields(self) -> tuple[Field, ...]:
        if self.step == SAVE_PAGE:
            return CATALOG.widgets[self.widget].save_fields
        return next(s for s in self.steps() if s.name == self.step).fields

    def kind(self) -> str:
        if self.step == SAVE_PAGE:
            return SAVE_PAGE
        return next(s for s in self.steps() if s.name == self.step).kind


def _targets() -> list[Target]:
    """Every step of every widget, the save page of each, and the steps that differ when
    the dealer asks for contact before the result."""
    found = []
    for slug, widget in CATALOG.widgets.items():
        found += [Target(slug, step.name) for step in widget.steps_for(frozenset())]
        found.append(Target(slug, SAVE_PAGE))
    payment = [s.name for s in CATALOG.widgets["payment"].steps_for(frozenset({CONTACT_FIRST}))]
    found += [Target("payment", name, True) for name in payment[payment.index("numbers") :]]
    return found


TARGETS = _targets()


# --- what is typed -------------------------------------------------------------------------

# Numbers as people (and scripts) type them: exponents, signs, other scripts' digits,
# grouping other countries use, stray units.
ODD_NUMBERS = [
    "1e309", "NaN", "-0", "Infinity", "-1", "+60", "0x3C", "60.0", "6o", "1_000", "1.000,50",
    "1,00,000", "$ 1,000.5", "$1,234.50", "\u0663\u0660\u0660\u0660", "\uff13\uff10\uff10\uff10",
    "\u00b9\u00b2", "\u22125", "9" * 30, "00000060", " 60 ", "0", "0.001", ".5", "5.", "$", "1 000",
    "12/31/9999", "02/30/1990", "0000-00-00", "1988-4-30", "62704-", "1hgcm82633a004352",
]  # fmt: skip
# Characters that reorder or hide text, and controls (NUL last: a post with it is a 400).
BIDI = ["\u200f", "\u200e", "\u202e", "\u202d", "\u2066", "\u2069", "\u061c", "\u200b", "\ufeff"]
CONTROLS = ["\t", "\n", "\r\n", "\x0b", "\x0c", "\x1b", "\x1f", "\x7f", "\x85", "\u2028", "\x00"]
# Any text a browser can send: UTF-8, so no lone surrogates; NUL comes from CONTROLS only.
TEXT = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=24)
TWEAKS = [str, str.upper, str.lower, " {} ".format, "{}\u200b".format, "\u202e{}".format]


def _samples() -> dict[str, list[str]]:
    """Every valid answer we know of each field, and its choices."""
    found: dict[str, list[str]] = {}
    for steps in VALID.values():
        for answers in steps.values():
            for name, value in answers.items():
                found.setdefault(name, []).append(value)
    for widget in CATALOG.widgets.values():
        for name, field in widget.all_fields().items():
            found.setdefault(name, []).extend(c.value for c in field.choices)
    return {name: sorted(set(values)) for name, values in found.items()}


SAMPLES = _samples()
# Valid at the very limit: 254 characters, 64 before the @ and labels of 63 (RFC 5321).
SAMPLES["email"].append("a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 57 + ".com")


def typed(field: Field) -> st.SearchStrategy[str]:
    """What a shopper (or a script) might type into `field`."""
    samples = SAMPLES.get(field.name) or ["x"]
    near = sorted(
        {field.max_length - 1, field.max_length, field.max_length + 1}
        | {MAX_FIELD_CHARS - 1, MAX_FIELD_CHARS, MAX_FIELD_CHARS + 1}
    )
    return st.one_of(
        st.builds(lambda tweak, s: tweak(s), st.sampled_from(TWEAKS), st.sampled_from(samples)),
        st.sampled_from(ODD_NUMBERS),
        TEXT,
        st.lists(
            st.one_of(st.sampled_from(BIDI + CONTROLS), st.sampled_from(samples), TEXT),
            max_size=4,
        ).map("".join),
        # Lengths at and past the field's limit and the form's, in 1- to 4-byte characters.
        st.builds(
            operator.mul,
            st.sampled_from(["x", "9", "\u00e9", "\u20ac", "\U0001d11e"]),
            st.sampled_from(near),
        ),  # fmt: skip
    )


# --- what is posted ------------------------------------------------------------------------


class Post(msgspec.Struct):
    """One request to send: a form of pairs (url-encoded here) or a raw body."""

    path: str
    pairs: list[tuple[str, str]] | None = None
    raw: bytes = b""
    content_type: str | None = "application/x-www-form-urlencoded"
    # Only known fields, each once, the page's hidden fields and one of its buttons.
    known: bool = False

    def body(self) -> bytes:
        if self.pairs is None:
            return self.raw
        return urlencode(self.pairs, encoding="utf-8").encode("ascii")

    def headers(self) -> dict[str, str]:
        return {} if self.content_type is None else {"content-type": self.content_type}

    def show(self) -> str:
        shown = repr(self.pairs) if self.pairs is not None else repr(self.raw)
        if len(shown) > 3000:
            shown = shown[:3000] + f"... ({len(shown)} characters)"
        return f"POST {self.path}\ncontent-type: {self.content_type!r}\nbody: {shown}"


class Page(msgspec.Struct):
    """The step as the driven shopper has it open."""

    path: str
    draft_id: str
    hidden: dict[str, str]
    buttons: list[str]


HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')
BUTTON = re.compile(r'name="action" value="([^"]+)"')


def _page(shopper: Shopper, path: str) -> Page:
    text = shopper.page.text
    hidden = {name: unescape(value) for name, value in HIDDEN.findall(text)}
    hidden.setdefault("comment_hp", "")  # the honeypot, as a browser sends it: empty
    buttons = sorted({unescape(b) for b in BUTTON.findall(text)})
    assert buttons, f"no buttons on {path}: {text[:500]}"
    return Page(path, shopper.draft_id, hidden, buttons)


def _names_outside(target: Target) -> list[str]:
    """Names a step doesn't ask: other steps' fields, lookalikes, oddities."""
    own = {f.name for f in target.fields()}
    others = sorted({f for w in CATALOG.widgets.values() for f in w.all_fields()} - own)
    return [*others, "is_admin", "__proto__", "D", "Action", "d[]", "", " ", "e-mail",
            *(f"{n} " for n in sorted(own)), *(n.upper() for n in sorted(own))]  # fmt: skip


def _ignored(target: Target) -> set[str]:
    """Names a step takes besides its fields: the credential, the honeypot, the button,
    and the notice (a consent step) or the step to go back to (the save page)."""
    extra = {"notice"} if target.kind() == "consent" else set()
    if target.step == SAVE_PAGE:
        extra = {"from"}
    return set(RESERVED) | extra


def _actions() -> list[str]:
    every = [s.name for w in CATALOG.widgets.values() for s in w.steps]
    return sorted(
        {"continue", "back", "save", "showroom", "agree", "carry", "send", "cancel", "delete",
         "", "goto:", "goto:nowhere", "GOTO:vehicle", "continue ", "goto:save",
         *(f"goto:{name}" for name in every)}
    )  # fmt: skip


@st.composite
def known_posts(draw: st.DrawFn, target: Target, page: Page) -> Post:
    fields = {f.name: f for f in target.fields()}
    # Every field, as a browser sends them (an unticked box aside), or any of them.
    every = [f.name for f in target.fields()]
    some = st.lists(st.sampled_from(every), unique=True) if every else st.just(every)
    names = draw(st.one_of(st.just(every), some))
    pairs = [(name, draw(typed(fields[name]))) for name in names]
    pairs += [*page.hidden.items(), ("action", draw(st.sampled_from(page.buttons)))]
    return Post(page.path, draw(st.permutations(pairs)), known=True)


@st.composite
def refused_posts(draw: st.DrawFn, target: Target, page: Page) -> Post:
    """A known post with fields the step doesn't ask, or with a name twice."""
    post = draw(known_posts(target, page))
    assert post.pairs is not None
    pairs = list(post.pairs)
    if draw(st.booleans()):
        outside = _names_outside(target)
        for _ in range(draw(st.integers(1, 3))):
            name = draw(st.one_of(st.sampled_from(outside), TEXT))
            if name in _ignored(target) or name in {f.name for f in target.fields()}:
                name = f"{name}_extra"
            pairs.insert(draw(st.integers(0, len(pairs))), (name, draw(TEXT)))
    else:
        again = draw(st.sampled_from(sorted({name for name, _ in pairs})))
        pairs.insert(draw(st.integers(0, len(pairs))), (again, draw(TEXT)))
    return Post(page.path, pairs)


@st.composite
def wild_posts(draw: st.DrawFn, target: Target, page: Page) -> Post:
    """A known post with any button, credential, honeypot or notice at all."""
    post = draw(known_posts(target, page))
    pairs = dict(post.pairs or [])
    token = page.hidden["d"]
    pairs["d"] = draw(
        st.sampled_from([token, token, token, "", token[:-3] + "abc", "not-a-token", token + "."])
    )
    pairs["comment_hp"] = draw(st.sampled_from(["", "", "", "x", " ", "http://spam.example"]))
    if "notice" in page.hidden:
        pairs["notice"] = draw(st.sampled_from([page.hidden["notice"], "", "forged"]))
    pairs["action"] = draw(
        st.one_of(
            st.sampled_from(page.buttons), st.sampled_from(_actions()), TEXT,
            st.builds("goto:{}".format, TEXT),
        )
    )  # fmt: skip
    return Post(page.path, draw(st.permutations(list(pairs.items()))))


# Bytes no form encoding makes, or makes only in another charset.
BROKEN = [
    b"%", b"%G1", b"%E2%82", b"%FF%FE", b"%C0%AF", b"%ED%A0%80", b"%F4%90%80%80", b"\xff",
    "\u0160koda".encode(), "caf\u00e9".encode("latin-1"), b"%00", b"a%2", b"=", b"==", b"&&",
    b";", b"%26%3D", b"+", b"%2B", b"%25", b"\r\n", b"%0D%0A",
]  # fmt: skip
CONTENT_TYPES = [
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=utf-8",
    "application/x-www-form-urlencoded; charset=latin-1",
    "APPLICATION/X-WWW-FORM-URLENCODED",
    "application/x-www-form-urlencoded;;;",
    "application/x-www-form-urlencodedx",
    "multipart/form-data; boundary=x",
    "application/json",
    "text/plain",
    "",
    None,
]


@st.composite
def raw_posts(draw: st.DrawFn, target: Target, page: Page) -> Post:
    """A body with broken percent-encoding, stray bytes or another content type."""
    known = draw(known_posts(target, page))
    parts = [urlencode([pair]).encode("ascii") for pair in known.pairs or []]
    for _ in range(draw(st.integers(1, 4))):
        fragment = draw(
            st.one_of(
                st.sampled_from(BROKEN),
                st.builds(operator.add, st.sampled_from([b"make=", b"email=", b"d=", b""]),
                          st.sampled_from(BROKEN)),
                st.binary(max_size=12),
            )
        )  # fmt: skip
        parts.insert(draw(st.integers(0, len(parts))), fragment)
    if draw(st.integers(0, 3)) == 0:
        body = json.dumps(dict(known.pairs or [])).encode()
    else:
        body = b"&".join(parts)
    return Post(page.path, raw=body, content_type=draw(st.sampled_from(CONTENT_TYPES)))


def posts(target: Target, page: Page) -> st.SearchStrategy[Post]:
    return st.one_of(
        known_posts(target, page),
        known_posts(target, page),
        refused_posts(target, page),
        wild_posts(target, page),
        raw_posts(target, page),
    )


# --- the database as the test sees it -------------------------------------------------------

Snapshot = dict[str, list[dict[str, Any]]]
# Rows a draft owns, by the column that names it.
BY_DRAFT = ("field_values", "events", "consents", "outbox", "prequals", "offers")
BY_LEAD = ("lead_activity", "callbacks")


class Witness:
    """Every row of every table, read through a connection of the test's own.

    Store.snapshot opens an engine per table, far too slow for hundreds of examples; so is
    aiosqlite for reading a few hundred rows. SQLite is read with the standard library's
    sqlite3 in the test's thread; PostgreSQL through asyncpg on the app's event loop.
    """

    def __init__(self, client: TestClient[Any], settings: Settings) -> None:
        self.portal = client.blocking_portal
        url = make_url(settings.database_url)
        self.sqlite = (
            sqlite3.connect(url.database or "", isolation_level=None)
            if url.get_backend_name() == "sqlite"
            else None
        )
        self.db = None if self.sqlite else Database(settings)

    def snapshot(self) -> Snapshot:
        if self.sqlite is not None:
            found = self._read_sqlite(self.sqlite)
        else:
            found = self.portal.call(self._read)
        # Page views are statistics written within a second of an earlier GET (Store.snapshot).
        found["events"] = [e for e in found["events"] if e["kind"] not in VIEWS]
        return found

    @staticmethod
    def _query(table: Table) -> str:
        # The whole primary key: ORDER BY 1 would leave a draft's values in any order.
        order = ", ".join(column.name for column in table.primary_key.columns)
        return f"SELECT * FROM {table.name} ORDER BY {order}"

    def _read_sqlite(self, conn: sqlite3.Connection) -> Snapshot:
        conn.row_factory = sqlite3.Row
        conn.execute("BEGIN")  # one snapshot of every table
        try:
            return {
                table.name: [dict(row) for row in conn.execute(self._query(table))]
                for table in metadata.sorted_tables
            }
        finally:
            conn.execute("ROLLBACK")

    async def _read(self) -> Snapshot:
        assert self.db is not None
        found: Snapshot = {}
        async with self.db.read() as conn:
            for table in metadata.sorted_tables:
                result = await conn.execute(text(self._query(table)))
                found[table.name] = [dict(row._mapping) for row in result]
        return found

    def close(self) -> None:
        if self.sqlite is not None:
            self.sqlite.close()
        if self.db is not None:
            self.portal.call(self.db.dispose)


def _own(before: Snapshot, after: Snapshot, draft_id: str) -> tuple[set[str], set[int]]:
    """The drafts a post on `draft_id` may change (itself and any carried from it, which
    "See what this does to my payment" creates) and the leads they belong to."""
    drafts = {draft_id}
    for row in after["drafts"]:
        if row["origin_id"] in drafts:
            drafts.add(row["id"])
    leads = {
        row["lead_id"]
        for snap in (before, after)
        for row in snap["drafts"]
        if row["id"] in drafts and row["lead_id"] is not None
    }
    return drafts, leads


def _cohort(row: dict[str, Any]) -> tuple[Any, ...]:
    """A funnel summary row's cohort: dealership, widget, day, source."""
    return (row["dealer_id"], row["widget"], row["day"], row["source"])


def _cohort_key(row: dict[str, Any]) -> tuple[Any, ...]:
    return (*_cohort(row), row["kind"], row["step"], row["field"])


def _cohorts(snap: Snapshot, drafts: set[str]) -> set[tuple[Any, ...]]:
    """The funnel cohorts of these drafts, as stored on them."""
    return {
        (r["dealer_id"], r["widget"], r["cohort_day"], r["cohort_source"])
        for r in snap["drafts"]
        if r["id"] in drafts
    }


def _team_groups(snaps: tuple[Snapshot, ...], leads: set[int]) -> set[tuple[Any, ...]]:
    """The team page's summary rows these leads are counted in: dealership, capture day, owner
    (resume.queries.team_counts, 0 for nobody), before and after."""
    return {
        (r["dealer_id"], r["captured_day"], r["owner_id"] or 0)
        for snap in snaps
        for r in snap["leads"]
        if r["id"] in leads
    }


def _outside(
    snap: Snapshot,
    drafts: set[str],
    leads: set[int],
    limits: Any,
    cohorts: set[tuple[Any, ...]],
    groups: set[tuple[Any, ...]],
) -> Snapshot:
    kept: Snapshot = {}
    for name, rows in snap.items():
        if name == "team_counts":
            rows = [r for r in rows if (r["dealer_id"], r["day"], r["owner"]) not in groups]
        elif name == "funnel_counts":
            rows = [r for r in rows if _cohort(r) not in cohorts]
        elif name == "funnel_totals":
            # The totals over the sources of the cohorts' days (checked against the counts).
            days = {c[:3] for c in cohorts}
            rows = [r for r in rows if (r["dealer_id"], r["widget"], r["day"]) not in days]
        elif name == "drafts":
            rows = [r for r in rows if r["id"] not in drafts]
        elif name in BY_DRAFT:
            rows = [r for r in rows if r["draft_id"] not in drafts]
        elif name == "leads":
            rows = [r for r in rows if r["id"] not in leads]
        elif name in BY_LEAD:
            rows = [r for r in rows if r["lead_id"] not in leads]
        elif name == "limits":
            rows = [r for r in rows if not limits(r["key"])]
        kept[name] = rows
    return kept


def _forgive(
    full_before: Snapshot, full_after: Snapshot, before: Snapshot, after: Snapshot, leads: set[int]
) -> None:
    """Put back in `after` (outside the draft) the two changes there that capturing the
    draft's lead makes: a new lead takes its owner's turn in the round-robin
    (staff_dealers.last_assigned_at), and a draft whose email is one lead's and phone
    another's marks the second as a possible duplicate of the first
    (resume.queries.leads.capture)."""
    created = {r["id"] for r in full_after["leads"]} - {r["id"] for r in full_before["leads"]}
    owners = {r["owner_id"] for r in full_after["leads"] if r["id"] in created & leads}
    old = {(r["staff_id"], r["dealer_id"]): r for r in before["staff_dealers"]}

    def same_but(row: dict[str, Any], was: dict[str, Any] | None, column: str) -> bool:
        return was is not None and {**row, column: None} == {**was, column: None}

    after["staff_dealers"] = [
        old[(r["staff_id"], r["dealer_id"])]
        if r["staff_id"] in owners
        and same_but(r, old.get((r["staff_id"], r["dealer_id"])), "last_assigned_at")
        else r
        for r in after["staff_dealers"]
    ]
    known = {row["id"]: row for row in before["leads"]}
    after["leads"] = [
        known[r["id"]]
        if r["duplicate_of"] in leads and same_but(r, known.get(r["id"]), "duplicate_of")
        else r
        for r in after["leads"]
    ]


def _short(rows: list[dict[str, Any]]) -> str:
    shown = repr(rows[:3])
    return shown if len(shown) < 1500 else shown[:1500] + "..."


def _differences(before: Snapshot, after: Snapshot) -> str:
    lines = []
    for name in before:
        if before[name] != after[name]:
            gone = [r for r in before[name] if r not in after[name]]
            new = [r for r in after[name] if r not in before[name]]
            lines.append(f"{name}: before {_short(gone)}\n  after {_short(new)}")
    return "\n".join(lines)


# --- the tests -------------------------------------------------------------------------------


class Fuzzed(msgspec.Struct):
    """A test's app, its witness, the data keys and what the server logged."""

    client: Any
    witness: Witness
    ring: Keyring
    settings: Settings
    log: list[logging.LogRecord]

    def __repr__(self) -> str:
        return "Fuzzed(app)"


class _Records(logging.Handler):
    def __init__(self, into: list[logging.LogRecord]) -> None:
        super().__init__(logging.WARNING)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(record)


@pytest.fixture(params=TARGETS, ids=[t.id for t in TARGETS])
def target(request: pytest.FixtureRequest) -> Target:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def fuzzed(settings: Settings, store: Store, target: Target) -> Iterator[Fuzzed]:
    """The app, built once for a test's examples, with the server's log kept to show."""
    if target.contact_first:
        config = store.one("SELECT config FROM dealers WHERE slug = 'demo-motors'")["config"]
        config = json.loads(config) if isinstance(config, str) else config
        store.execute(
            "UPDATE dealers SET config = :c", c=json.dumps({**config, CONTACT_FIRST: True})
        )
    records: list[logging.LogRecord] = []
    handler = _Records(records)
    logger = logging.getLogger("resume")
    logger.addHandler(handler)
    try:
        with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as client:
            witness = Witness(client, settings)
            try:
                yield Fuzzed(client, witness, Keyring(settings.data_keys), settings, records)
            finally:
                witness.close()
    finally:
        logger.removeHandler(handler)


def drive(client: Any, target: Target) -> Page:
    """A new shopper, taken to the target with valid answers as the other tests do, but
    reading each next credential off the redirect instead of the page it leads to."""
    base = f"/embed/demo-motors/{target.widget}"
    steps = target.steps()
    answers = VALID[target.widget]
    goal = steps[1].name if target.step == SAVE_PAGE else target.step
    shopper = Shopper(client, widget=target.widget)
    shopper.start()
    token = shopper.token
    for step in steps:
        if step.name == goal:
            break
        form = {"d": token, "comment_hp": "", "action": "continue", **answers.get(step.name, {})}
        if step.kind == "consent":
            shopper.open(f"{base}/{step.name}?d={token}")
            form.update(action="agree", notice=_page(shopper, "").hidden["notice"])
        moved = client.post(f"{base}/{step.name}", data=form, follow_redirects=False)
        assert moved.status_code == 303, (step.name, moved.status_code, moved.text[:500])
        token = parse_qs(urlsplit(moved.headers["location"]).query)["d"][0]
    if target.step == SAVE_PAGE:
        form = {"d": token, "comment_hp": "", "action": "save", **answers.get(goal, {})}
        moved = client.post(f"{base}/{goal}", data=form, follow_redirects=False)
        assert moved.status_code == 303, (goal, moved.status_code, moved.text[:500])
        shopper.open(moved.headers["location"])
    elif target.step != steps[0].name:
        shopper.open(f"{base}/{target.step}?d={token}")
    assert shopper.page.status_code == 200, (target, shopper.page.text[:500])
    return _page(shopper, f"{base}/{target.step}")


def _server_log(records: list[logging.LogRecord]) -> str:
    formatter = logging.Formatter("%(levelname)s %(name)s: %(message)s")
    return "server log:\n" + ("\n".join(formatter.format(r) for r in records) or "(nothing)")


def _expected(post: Post, limit: int) -> set[int]:
    """What a known post may get: saved, unless the body or a value can't be stored."""
    assert post.pairs is not None
    statuses = set()
    if len(post.body()) > limit:
        return {413}
    if any("\x00" in value for _, value in post.pairs):
        statuses.add(400)
    if any(len(value) > MAX_FIELD_CHARS for _, value in post.pairs):
        statuses.add(413)
    return statuses or {303}


def _parsed(post: Post) -> list[tuple[str, str]] | None:
    """The pairs a raw body carries, read as strictly as a save must; None if it can't be."""
    if post.pairs is not None:
        return post.pairs
    try:
        return parse_qsl(post.raw.decode("ascii"), keep_blank_values=True, errors="strict")
    except (UnicodeDecodeError, ValueError):
        return None


def _form_type(post: Post) -> bool:
    """Whether the post says it is a url-encoded form, as a browser's does."""
    given = (post.content_type or "").split(";")[0].strip().lower()
    return given == "application/x-www-form-urlencoded"


def _vin_filled(target: Target, form: dict[str, str], name: str, stored: str) -> bool:
    """A blank year or make on the trade-in's vehicle step is filled from a good VIN
    (resume.kinds.trade_in.check_vehicle): the one answer stored other than as typed."""
    if (target.widget, target.step) != ("trade-in", "vehicle") or form.get(name, "").strip():
        return False
    decoded = check_vin(form.get("vin", "").strip())
    if not isinstance(decoded, Vin):
        return False
    return stored == {"year": str(decoded.year), "make": decoded.make}[name]


def _check_saved(
    fuzzed: Fuzzed, target: Target, page: Page, form: dict[str, str], before: Snapshot,
    after: Snapshot,
) -> list[str]:  # fmt: skip
    """Property 2: what the post stored is what was typed."""
    rows = {r["name"]: r for r in after["field_values"] if r["draft_id"] == page.draft_id}
    old = {r["name"]: r for r in before["field_values"] if r["draft_id"] == page.draft_id}
    wrong = []
    for field in target.fields():
        row = rows.get(field.name)
        typed_in = form.get(field.name, "")
        if target.step == SAVE_PAGE and field.type == "checkbox":
            # The box is stored only together with a consent record (rule 7): else it
            # stays as it was.
            if row != old.get(field.name):
                assert row is not None
                consents = [c for c in after["consents"] if c["draft_id"] == page.draft_id]
                if row["value"] != typed_in or len(consents) <= len(
                    [c for c in before["consents"] if c["draft_id"] == page.draft_id]
                ):
                    wrong.append(f"{field.name}: stored {row['value']!r} without its consent")
            continue
        if target.step == SAVE_PAGE and field.name not in form:
            continue  # the save page stores only the fields it was sent
        if row is None:
            wrong.append(f"{field.name}: not stored (typed {typed_in!r})")
            continue
        if bool(row["sealed"]) != field.sensitive:
            wrong.append(f"{field.name}: sealed is {row['sealed']!r}")
            continue
        stored = fuzzed.ring.open(row["value"]) if row["sealed"] else row["value"]
        if stored != typed_in and not _vin_filled(target, form, field.name, stored):
            wrong.append(f"{field.name}: typed {typed_in!r}, stored {stored!r}")
    return wrong


def _send(fuzzed: Fuzzed, post: Post) -> Any:
    fuzzed.log.clear()
    try:
        return fuzzed.client.post(
            post.path, content=post.body(), headers=post.headers(), follow_redirects=False
        )
    except Exception as exc:  # an exception that escaped the app's error pages
        raise AssertionError(f"{post.show()}\nraised {exc!r}\n{_server_log(fuzzed.log)}") from exc


FUZZ = hypothesis.settings(
    # `fuzzed` (and the database under it) is built once per test, not per example, on
    # purpose: a new app and database per example would cost ten times the example. It is
    # safe because each example drives a shopper of its own to a new draft and compares only
    # its own before and after; what earlier examples left is other drafts, which property 4
    # watches too.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@FUZZ
@given(data=st.data())
def test_any_post_to_any_step(fuzzed: Fuzzed, target: Target, data: st.DataObject) -> None:
    page = drive(fuzzed.client, target)
    before = fuzzed.witness.snapshot()
    post = data.draw(posts(target, page), label="post")
    response = _send(fuzzed, post)
    status = response.status_code
    hypothesis.event("outcome", f"{'known' if post.known else 'other'} {status}")
    shown = f"{post.show()}\n-> {status}\n{response.text[:1500]}\n"
    assert status < 500, shown + _server_log(fuzzed.log)

    if status == 303:
        location = response.headers["location"]
        followed = fuzzed.client.get(location)
        assert followed.status_code == 200, (
            f"{shown}\nGET {location} -> {followed.status_code}\n{followed.text[:1500]}\n"
            + _server_log(fuzzed.log)
        )
    after = fuzzed.witness.snapshot()

    pairs = _parsed(post)
    names = [name for name, _ in pairs] if pairs is not None else []
    own = {f.name for f in target.fields()}
    unknown = sorted(set(names) - own - _ignored(target))
    repeated = len(names) != len(set(names))
    if post.known:
        assert status in _expected(post, fuzzed.settings.max_body_bytes) | (
            {429} if target.step == SAVE_PAGE else set()
        ), shown + _server_log(fuzzed.log)
    if (unknown or repeated) and pairs is not None and _form_type(post):
        assert 400 <= status < 500, f"{shown}unknown {unknown}, repeated {repeated}"

    # Property 4: a refusal changes nothing at all. The save page's 429 is a link limit:
    # it saves like every post and only doesn't send (README, "Security headers").
    if 400 <= status < 500 and not (target.step == SAVE_PAGE and status == 429):
        assert after == before, shown + _differences(before, after)
        return
    # Property 2: a save stored what was typed.
    if status in (303, 429):
        assert pairs is not None, f"{shown}a body we can't read was saved"
        wrong = _check_saved(fuzzed, target, page, dict(pairs), before, after)
        assert not wrong, shown + "\n".join(wrong)

    # Property 4: nothing outside the draft changed.
    drafts, leads = _own(before, after, page.draft_id)

    def owned_limit(key: str) -> bool:
        if any(key == f"draft:{d}" or key.startswith(f"link-page:{d}:") for d in drafts):
            return True
        # Links queued from this client, counted per address and client (save_later).
        return target.step == SAVE_PAGE and key.startswith(("link:", "link-from:"))

    # The funnel's summary rows of the draft's own cohort are the draft's to add to, and only
    # ever added to: a count never goes down.
    cohorts = _cohorts(after, drafts)
    counted = {_cohort_key(r): r["n"] for r in before["funnel_counts"] if _cohort(r) in cohorts}
    for row in after["funnel_counts"]:
        if _cohort(row) in cohorts:
            assert row["n"] >= counted.get(_cohort_key(row), 0), shown + f"a count fell: {row}"
    # And their totals over the sources are still the sums of the rows (what a funnel of
    # every source reads).
    sums: dict[tuple[Any, ...], int] = {}
    for row in after["funnel_counts"]:
        key = (row["dealer_id"], row["widget"], row["day"], row["kind"], row["step"], row["field"])
        sums[key] = sums.get(key, 0) + row["n"]
    totals = {
        (r["dealer_id"], r["widget"], r["day"], r["kind"], r["step"], r["field"]): r["n"]
        for r in after["funnel_totals"]
    }
    assert totals == sums, shown + "the funnel's totals are not the sums of its rows"
    # The team page's rows of the leads' groups count every lead in them, the draft's with the rest.
    groups = _team_groups((before, after), leads)
    kept = {(r["dealer_id"], r["day"], r["owner"]): r["n"] for r in after["team_counts"]}
    for group in groups:
        members = [
            r
            for r in after["leads"]
            if (r["dealer_id"], r["captured_day"], r["owner_id"] or 0) == group
        ]
        assert kept.get(group, 0) == len(members), shown + f"team_counts {group}: {kept.get(group)}"
    outside_before = _outside(before, drafts, leads, owned_limit, cohorts, groups)
    outside_after = _outside(after, drafts, leads, owned_limit, cohorts, groups)
    _forgive(before, after, outside_before, outside_after, leads)
    assert outside_after == outside_before, shown + _differences(outside_before, outside_after)
