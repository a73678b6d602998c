"""Follow-up copy in the shipped widget definitions (issue #4).

Every step a shopper can leave on has one email per touch of the cadence; the copy changes
from touch to touch, says when it is the last, and only uses the placeholders the composer
fills in: never one for a sensitive answer.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from resume.definitions import Followup, Step, Widget, load_widgets
from resume.resources import data_dir

TOUCHES = 5  # one per delay of the default cadence: 1 h, 1 d, 3 d, 7 d, 14 d
ALLOWED = {"{vehicle}", "{dealer}", "{step}"}
MAX_SUBJECT = 78

WIDGETS = load_widgets(data_dir() / "widgets")
STEPS = [
    pytest.param(widget, step, id=f"{widget.slug}:{step.name}")
    for widget in WIDGETS.values()
    for step in widget.steps
]
WITH_COPY = [
    pytest.param(widget, step, id=f"{widget.slug}:{step.name}")
    for widget in WIDGETS.values()
    for step in widget.steps
    if step.followups
]
COPY = [
    pytest.param(step, number, copy, id=f"{widget.slug}:{step.name}:{number}")
    for widget in WIDGETS.values()
    for step in widget.steps
    for number, copy in enumerate(step.followups, start=1)
]


def test_the_shipped_widgets_are_all_checked() -> None:
    assert {"payment", "trade-in", "credit"} <= set(WIDGETS)


@pytest.mark.parametrize(("widget", "step"), STEPS)
def test_every_form_and_consent_step_has_a_touch_for_each_delay(widget: Widget, step: Step) -> None:
    if step.kind in {"form", "consent"}:
        assert len(step.followups) == TOUCHES


@pytest.mark.parametrize(("widget", "step"), WITH_COPY)
def test_a_step_with_copy_has_exactly_one_per_touch(widget: Widget, step: Step) -> None:
    assert len(step.followups) == TOUCHES


@pytest.mark.parametrize(("widget", "step"), WITH_COPY)
def test_the_copy_changes_from_touch_to_touch(widget: Widget, step: Step) -> None:
    subjects = [c.subject.casefold() for c in step.followups]
    bodies = [c.body.casefold() for c in step.followups]
    assert len(set(subjects)) == len(subjects)
    assert len(set(bodies)) == len(bodies)


@pytest.mark.parametrize(("widget", "step"), WITH_COPY)
def test_the_last_touch_says_it_is_the_last(widget: Widget, step: Step) -> None:
    last = step.followups[-1]
    assert "last" in f"{last.subject} {last.body}".casefold()


@pytest.mark.parametrize(("step", "number", "copy"), COPY)
def test_only_the_composers_placeholders_are_used(step: Step, number: int, copy: Followup) -> None:
    for text in (copy.subject, copy.body):
        assert set(re.findall(r"\{[^{}]*\}", text)) <= ALLOWED
        # A stray or half-written brace would be sent as is.
        bare = re.sub(r"\{(?:vehicle|dealer|step)\}", "", text)
        assert "{" not in bare and "}" not in bare


@pytest.mark.parametrize(("step", "number", "copy"), COPY)
def test_the_tone_is_plain(step: Step, number: int, copy: Followup) -> None:
    for text in (copy.subject, copy.body):
        assert "just checking in" not in text.casefold()
        assert "!" not in text
        assert text == text.strip() and text


@pytest.mark.parametrize(("step", "number", "copy"), COPY)
def test_subjects_fit_on_one_line(step: Step, number: int, copy: Followup) -> None:
    assert len(copy.subject) <= MAX_SUBJECT
    assert "\n" not in copy.subject


def test_the_samples_page_is_what_the_copy_says_now() -> None:
    """docs/followup-samples.md is written from this copy by scripts/followup_samples.py; a
    change to the copy or the steps without writing it again leaves the page stale (#11)."""
    script = Path(__file__).resolve().parent.parent / "scripts" / "followup_samples.py"
    spec = importlib.util.spec_from_file_location("followup_samples", script)
    assert spec is not None and spec.loader is not None
    samples = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(samples)
    page = samples.render()
    for step in (s for w in WIDGETS.values() for s in w.steps if s.followups):
        assert f'### Left on "{step.title}" (`{step.name}`)' in page
    assert samples.PAGE.read_text() == page, "run: python scripts/followup_samples.py"
