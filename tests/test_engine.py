"""The step engine: where Continue, Back and a jump lead, validated or not, knowing nothing
of HTTP."""

from __future__ import annotations

import pytest

from resume.definitions import load_widgets
from resume.engine import decide, validate
from resume.errors import BadRequest, StepNotReached
from resume.fields import clean
from resume.resources import data_dir


@pytest.fixture
def payment():  # type: ignore[no-untyped-def]
    """The shipped payment widget, loaded as the server loads it."""
    return load_widgets(data_dir() / "widgets")["payment"]


def test_the_payment_widget_has_its_steps(payment) -> None:  # type: ignore[no-untyped-def]
    # "plan" split from "numbers" so every step fits its frame (issue #11, item 2).
    names = [s.name for s in payment.steps_for(frozenset())]
    assert names == ["vehicle", "plan", "numbers", "result"]
    names = [s.name for s in payment.steps_for(frozenset({"contact_before_result"}))]
    assert names == ["vehicle", "plan", "numbers", "contact", "result"]
    fields = payment.all_fields()
    assert fields["price"].type == "money" and fields["email"].autocomplete == "email"
    # The term is one of the dealer's terms, chosen, not typed (issue #11, item 2).
    assert fields["term"].choices_from == "terms"


def test_continue_moves_on_only_when_valid(payment) -> None:  # type: ignore[no-untyped-def]
    steps = payment.steps_for(frozenset())
    fields = steps[2].fields
    bad = validate(fields, {"down_payment": "3k", "term": "6o"})
    assert decide(steps, 2, 2, "continue", bad).target == "numbers"
    assert decide(steps, 2, 2, "continue", bad).check
    good = validate(fields, {"down_payment": "3,000", "term": "60"})
    move = decide(steps, 2, 2, "continue", good)
    # The payment's result is reached but not finished: leaving it is an exit (issue #4).
    assert move.target == "result" and move.result and not move.completes


def test_back_never_validates(payment) -> None:  # type: ignore[no-untyped-def]
    steps = payment.steps_for(frozenset())
    bad = validate(steps[2].fields, {"term": "nonsense"})
    assert decide(steps, 2, 2, "back", bad).target == "plan"


def test_jumps_only_to_reached_steps(payment) -> None:  # type: ignore[no-untyped-def]
    steps = payment.steps_for(frozenset())
    assert decide(steps, 1, 3, "goto:result", {}).target == "result"
    assert decide(steps, 1, 1, "goto:vehicle", {}).target == "vehicle"
    with pytest.raises(StepNotReached):
        decide(steps, 0, 0, "goto:result", {})
    with pytest.raises(BadRequest):
        decide(steps, 0, 0, "explode", {})


def test_validate_treats_a_missing_checkbox_as_unticked(payment) -> None:  # type: ignore[no-untyped-def]
    consent = payment.all_fields()["consent_followup"]
    assert validate((consent,), {})["consent_followup"].value is False
    assert clean(consent, "yes").value is True
