"""The rep's talk tracks in the shipped widget definitions.

Every step a shopper can leave on has a track of its own, and so does every required field:
the dashboard shows the field's track when the shopper stopped on it, else the step's. A track
names only the figures its kind fills in, reads whole with a full draft and with an empty one,
never carries a sensitive answer, and sticks to what a rep may say by phone. docs/talk-tracks.md
shows them all and is checked against the definitions here.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest

from resume import demo
from resume.catalog import Catalog
from resume.dealers import Dealer, DealerConfig, TradeIn, TradeInRules
from resume.dealers.checks import check_config
from resume.definitions import Step, Talk, Widget
from resume.fields import clean
from resume.kinds.base import TALK_KEYS
from resume.queries.drafts import DraftState, Stored

MAX_SAY = 320
OFFERS = {"resume_link", "appointment", "trade_offer"}
DOC = Path(__file__).resolve().parents[1] / "docs" / "talk-tracks.md"

CATALOG = Catalog.load()
DEMO = Dealer(
    id=1,
    slug=demo.SLUG,
    origins=("http://localhost:8000",),
    config=check_config(DealerConfig()),
    **demo.DETAILS,
)
AGES = {3: 24_000, 8: 14_000, 15: 6_000, 30: 2_000}
# The same dealer with an instant trade-in range instead of an appraiser's offer: {range}
# then reads as dollars rather than as a promise.
RULES = msgspec.structs.replace(
    DEMO,
    config=check_config(
        msgspec.structs.replace(
            DEMO.config,
            trade_in=TradeIn(
                mode="rules",
                rules=TradeInRules(values_by_age={age: Decimal(v) for age, v in AGES.items()}),
            ),
        )
    ),
)
DEALERS = {"appraiser": DEMO, "rules": RULES}

# A shopper who answered every question, as people type them.
TYPED: dict[str, dict[str, str]] = {
    "payment": {
        "condition": "used",
        "year": "2021",
        "make": "Toyota",
        "model": "RAV4",
        "trim": "XLE",
        "price": "$28,450",
        "plan": "finance",
        "down_payment": "3,000",
        "trade_value": "9,500",
        "trade_payoff": "4,200",
        "credit": "good",
        "term": "60",
        "first_name": "Maria",
        "email": "maria@example.com",
    },
    "trade-in": {
        "vin": "1HGCM82633A004352",
        "year": "2003",
        "make": "Honda",
        "model": "Accord",
        "trim": "EX",
        "mileage": "148,500",
        "grade": "good",
        "accident": "minor",
        "warning_lights": "no",
        "smoked": "no",
        "keys": "one",
        "modifications": "no",
        "ownership": "finance",
        "lender": "Honda Financial Services",
        "payoff": "2,150",
        "timeline": "this_week",
        "first_name": "Maria",
        "last_name": "Lopez",
        "email": "maria@example.com",
        "phone": "(217) 555-0188",
    },
    # The sensitive answers are picked so that none is a word the copy itself uses (the
    # questions' own words, "rent" or "employed", would match a track that names the question).
    "credit": {
        "first_name": "Maria",
        "last_name": "Lopez",
        "birthdate": "04/30/1988",
        "email": "maria@example.com",
        "phone": "(217) 555-0188",
        "street": "4417 Cerrillos Road",
        "city": "Santa Fe",
        "state": "NM",
        "zip": "87507",
        "years_at_address": "17",
        "housing": "own_outright",
        "housing_payment": "1,385",
        "employment": "self_employed",
        "employer": "Arroyo Tile Works",
        "years_at_job": "12",
        "monthly_income": "6,240",
        "credit_band": "rebuilding",
    },
}
DRAFTS = {"full": TYPED, "empty": {slug: {} for slug in TYPED}}

TRACKS = [
    pytest.param(widget, step, talk, id=f"{widget.slug}:{step.name}:{talk.field or 'step'}")
    for widget in CATALOG.widgets.values()
    for step in widget.steps
    for talk in step.talk
]
STEPS = [
    pytest.param(widget, step, id=f"{widget.slug}:{step.name}")
    for widget in CATALOG.widgets.values()
    for step in widget.steps
]


def draft_of(widget: Widget, dealer: Dealer, typed: Mapping[str, str]) -> DraftState:
    """A draft holding `typed` as saved: each answer stored as typed, checked by its field."""
    fields = widget.all_fields()
    values = {}
    for name, raw in typed.items():
        cleaned = clean(fields[name], raw)
        values[name] = Stored(raw, cleaned.valid, cleaned.error, widget.step_of(name))
    return DraftState(
        id="talk-sample",
        dealer_id=dealer.id,
        widget=widget.slug,
        version=1,
        revision=len(values),
        step=widget.steps[-1].name if values else widget.steps[0].name,
        reached=len(widget.steps) - 1 if values else 0,
        status="open",
        email=typed.get("email"),
        phone=typed.get("phone"),
        wants_showroom=False,
        values=values,
    )


def say_for(
    widget: Widget, step: Step, talk: Talk, dealer: Dealer, typed: Mapping[str, str]
) -> str:
    """The track as the dashboard shows it: the kind's figures, and the step's title."""
    shown = CATALOG.for_dealer(widget.slug, dealer)
    found = CATALOG.kind(widget.slug).talk_values(shown, dealer, draft_of(shown, dealer, typed))
    return talk.say.format_map({**found, "step": step.title})


def placeholders(text: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]


def doc_section(step: Step) -> str:
    """How docs/talk-tracks.md shows a step's tracks."""
    rows = ["| Stopped on | Offer | What to say |", "|---|---|---|"]
    for talk in step.talk:
        field = step.field(talk.field)
        where = f"`{talk.field}` ({field.label})" if field else "the step"
        rows.append(f"| {where} | `{talk.offer}` | {talk.say} |")
    return f'### Left on "{step.title}" (`{step.name}`)\n\n' + "\n".join(rows) + "\n"


def test_the_shipped_widgets_are_all_checked() -> None:
    assert {"payment", "trade-in", "credit"} <= set(CATALOG.widgets)
    assert set(TYPED) == set(CATALOG.widgets)


def test_the_sample_answers_are_all_valid() -> None:
    # A mistyped sample would test the fallbacks twice and the real figures never.
    for slug, typed in TYPED.items():
        fields = CATALOG.for_dealer(slug, DEMO).all_fields()
        for name, raw in typed.items():
            assert clean(fields[name], raw).valid, (slug, name, raw)


@pytest.mark.parametrize(("widget", "step"), STEPS)
def test_every_step_has_a_track_of_its_own(widget: Widget, step: Step) -> None:
    assert any(talk.field == "" for talk in step.talk)


@pytest.mark.parametrize(("widget", "step"), STEPS)
def test_every_required_field_has_a_track_of_its_own(widget: Widget, step: Step) -> None:
    talked = {talk.field for talk in step.talk}
    for field in step.fields:
        if field.required:
            assert field.name in talked, field.name


@pytest.mark.parametrize(("widget", "step", "talk"), TRACKS)
def test_only_the_kinds_figures_are_named(widget: Widget, step: Step, talk: Talk) -> None:
    allowed = TALK_KEYS | CATALOG.kind(widget.slug).talk_keys
    for _, name, spec, conversion in string.Formatter().parse(talk.say):
        if name is not None:
            assert name in allowed
            assert not spec and conversion is None


@pytest.mark.parametrize("dealer", DEALERS.values(), ids=DEALERS)
@pytest.mark.parametrize("sample", DRAFTS.values(), ids=DRAFTS)
@pytest.mark.parametrize(("widget", "step", "talk"), TRACKS)
def test_every_track_reads_whole_for_any_draft(
    widget: Widget, step: Step, talk: Talk, sample: dict[str, dict[str, str]], dealer: Dealer
) -> None:
    said = say_for(widget, step, talk, dealer, sample[widget.slug])
    assert "{" not in said and "}" not in said
    assert said == said.strip() and "  " not in said


@pytest.mark.parametrize(("widget", "step", "talk"), TRACKS)
def test_no_sensitive_answer_is_said(widget: Widget, step: Step, talk: Talk) -> None:
    # Staff alerts carry no sensitive answer, so neither may the track beside them (rule 6).
    typed = TYPED[widget.slug]
    sensitive = widget.sensitive()
    said = say_for(widget, step, talk, DEMO, typed).casefold()
    for name in sensitive & set(typed):
        assert typed[name].casefold() not in said, name
    if widget.slug == "credit":
        assert sensitive, "the credit widget marks its answers sensitive"


@pytest.mark.parametrize(("widget", "step", "talk"), TRACKS)
def test_only_the_trade_in_widget_offers_an_appraisers_offer(
    widget: Widget, step: Step, talk: Talk
) -> None:
    assert talk.offer in OFFERS
    if talk.offer == "trade_offer":
        assert widget.slug == "trade-in"


@pytest.mark.parametrize(("widget", "step", "talk"), TRACKS)
def test_the_tone_is_plain_and_compliant(widget: Widget, step: Step, talk: Talk) -> None:
    text = talk.say.casefold()
    assert len(talk.say) < MAX_SAY
    assert talk.say == talk.say.strip() and "\n" not in talk.say
    assert "just checking in" not in text
    assert "!" not in text
    # No social security number is asked for anywhere (rule 6), and an estimate is not an
    # offer of credit: nothing may promise approval.
    assert "social security" not in text and not re.search(r"\bssn\b", text)
    assert "approved" not in text and "guarantee" not in text


@pytest.mark.parametrize(("widget", "step", "talk"), TRACKS)
def test_the_name_begins_a_sentence(widget: Widget, step: Step, talk: Talk) -> None:
    # With no first name it is "The shopper", which reads only at the start of a sentence.
    for found in re.finditer(r"\{name\}", talk.say):
        before = talk.say[: found.start()]
        assert not before or before.endswith(". ")
    assert placeholders(talk.say).count("name") <= 1


def test_the_doc_shows_every_track_as_defined() -> None:
    doc = DOC.read_text(encoding="utf-8")
    for widget in CATALOG.widgets.values():
        assert f"## {widget.title} (`{widget.slug}`)" in doc
        for step in widget.steps:
            assert doc_section(step) in doc, f"docs/talk-tracks.md: {widget.slug}:{step.name}"
    steps = sum(len(widget.steps) for widget in CATALOG.widgets.values())
    assert doc.count('### Left on "') == steps, "docs/talk-tracks.md shows a step no widget has"
